"""`nudmsim demo` (the README's first command): its outputs agree with the library's own numbers."""
import subprocess
import sys

import numpy as np
import pytest

from nudmsim import cards
from nudmsim.experiment import Experiment
from nudmsim.io import read_root


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    r = subprocess.run([sys.executable, "-m", "nudmsim", "demo", "--outdir", str(out), "--seed", "7"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out, r.stdout


def test_demo_event_files_match_quadrature(demo_dir):
    out, stdout = demo_dir
    card = cards.load_detector("coherent_csi_2017")
    ev, meta = read_root(out / "cevns.root")
    assert meta["seed"] == 7 and meta["card_sha256"] == card.sha256
    w = ev["weight"].to_numpy()
    expected = Experiment.load("coherent_csi_2017").expected("cevns").total
    # weighted MC estimate of the accepted SM count vs quadrature, within 5 MC standard errors
    err = np.sqrt(np.sum(w**2))
    assert abs(w.sum() - expected) < 5 * err + 1e-3 * expected
    assert f"{w.sum():6.1f} after acceptance" in stdout


def test_demo_limit_and_figure(demo_dir):
    out, stdout = demo_dir
    lines = [ln for ln in (out / "limit_coherent2017_r3.csv").read_text().splitlines() if not ln.startswith("#")]
    data = np.genfromtxt(lines, delimiter=",", names=True)
    assert len(data) >= 3 and np.all(np.isfinite(data["observed"])) and np.all(data["observed"] > 0)
    # sigma_NC limits are cross sections of order 1e-45..1e-40 cm^2 in this mass range (seed 004 Fig. 2)
    assert np.all((data["observed"] > 1e-47) & (data["observed"] < 1e-38))
    png = (out / "demo.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "published best fit 134" in stdout
