"""Direct detection from the command line (issue 3): ROOT files, predictions, limits, bad input."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

from nudmsim.cli.main import main
from nudmsim.io import read_root


def _run(*args):
    return subprocess.run([sys.executable, "-m", "nudmsim", *args], capture_output=True, text=True)


def test_generate_x2nu_root_file(tmp_path, capsys):
    out = tmp_path / "x.root"
    assert main(["generate", "x-to-nu", "-n", "20000", "--seed", "4", "-o", str(out)]) == 0
    ev, meta = read_root(out)
    for br in ("E_R_keV", "v_km_s", "E_nu_MeV", "E_rec_keV", "weight_truth", "weight", "target_id",
               "process_id"):
        assert br in ev.fields
    assert meta["process"] == "x-to-nu" and meta["card_name"] == "xenon1t_2018"
    assert ev["weight"].to_numpy().sum() == pytest.approx(meta["expected_total"], rel=1e-12)
    # weight / weight_truth = the detection efficiency (the migration-matrix row sum), in [0, 1]
    eff = ev["weight"].to_numpy() / ev["weight_truth"].to_numpy()
    assert np.all((eff >= 0) & (eff <= 1)) and 0.05 < np.mean(eff) < 1
    assert ev["weight_truth"].to_numpy().sum() == pytest.approx(meta["interactions"], rel=1e-12)
    # a ROOT reader sees a TTree
    with uproot.open(out) as f:
        assert f["events"].classname == "TTree" and f["events"].num_entries == 20000
    # same seed -> same events
    out2 = tmp_path / "y.root"
    assert main(["generate", "x-to-nu", "-n", "20000", "--seed", "4", "-o", str(out2)]) == 0
    ev2, _ = read_root(out2)
    assert np.array_equal(ev["E_R_keV"].to_numpy(), ev2["E_R_keV"].to_numpy())
    # the reconstructed energy follows the true energy within the migration matrix
    det = ev["weight"].to_numpy() > 0
    diff = ev["E_rec_keV"].to_numpy()[det] - ev["E_R_keV"].to_numpy()[det]
    assert abs(np.median(diff)) < 1.5


def test_generate_borexino_and_wimp(tmp_path):
    out = tmp_path / "b.root"
    assert main(["generate", "x-to-nu", "-d", "borexino", "--set", "m_X=80", "-n", "5000", "--seed", "1",
                 "-o", str(out)]) == 0
    ev, meta = read_root(out)
    assert {"E_vis_ee_keV", "E_obs_ee_keV", "detected"} <= set(ev.fields)
    codes = meta["codes"]["target_id"]   # code -> name (the run metadata's code tables)
    assert meta["targets"] == ["p", "C12", "C13"] and [codes[str(i)] for i in range(3)] == ["p", "C12", "C13"]
    # the threshold stage: detected = 1 above 70 keVee, and only those events keep a weight
    det = ev["detected"].to_numpy()
    assert np.array_equal(det == 1, ev["E_obs_ee_keV"].to_numpy() >= 70.0)
    assert np.all(ev["weight"].to_numpy()[det == 0] == 0)
    out = tmp_path / "w.root"
    assert main(["generate", "wimp-si", "--set", "m_chi=100GeV", "-n", "5000", "--seed", "1", "--unweighted",
                 "-o", str(out)]) == 0
    ev, meta = read_root(out)
    assert np.all(ev["weight"].to_numpy() == 1.0)


def test_predict_json_and_plot(tmp_path, capsys):
    png = tmp_path / "s.png"
    assert main(["predict", "x-to-nu", "--set", "m_X=60", "--json", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    d = json.loads(out.splitlines()[0])
    assert d["in the observables, after the response"] > 0 and png.stat().st_size > 1000
    assert main(["predict", "wimp-si", "--json"]) == 0
    d = json.loads(capsys.readouterr().out.splitlines()[0])
    assert 100 < d["in the region of interest"] < 250  # ~ 165 events for 50 GeV, 1e-45 cm^2


def test_limit_cli_writes_csv_and_png(tmp_path):
    csv = tmp_path / "si.csv"
    assert main(["limit", "xenon1t-si", "--masses", "30000,100000", "--scheduler", "sync", "--quiet",
                 "-o", str(csv)]) == 0
    rows = [line for line in csv.read_text().splitlines() if not line.startswith("#")]
    assert rows[0] == "x,observed" and len(rows) == 3
    assert float(rows[1].split(",")[1]) == pytest.approx(4.05e-47, rel=0.25)
    assert csv.with_suffix(".png").is_file()


@pytest.mark.parametrize("args,msg", [
    (["predict", "x-to-nu", "--set", "m_X=nan"], "m_X"),
    (["predict", "x-to-nu", "--set", "m_X=-3"], "m_X"),
    (["predict", "x-to-nu", "--set", "m_phi=0"], "m_phi"),
    (["predict", "x-to-nu", "-d", "nope"], "unknown detector 'nope'"),
    (["predict", "wimp-si", "-d", "borexino"], "does not list process 'wimp-si'"),
    (["predict", "wimp-si", "--set", "sigma_n=-1"], "sigma_n"),
    (["generate", "x-to-nu", "--set", "y_q=0"], "zero rate"),
    (["limit", "xenon1t-x2nu", "--masses", "1,2", "--scheduler", "sync"], "blind"),
    (["limit", "xenon1t-x2nu", "--ratio", "-3", "--scheduler", "sync"], "ratio"),
    (["limit", "borexino-x2nu", "--option", "quenching=xyz", "--scheduler", "sync"], "quenching"),
])
def test_bad_input_one_line_exit_2(args, msg, tmp_path):
    extra = {"limit": ["-o", str(tmp_path / "l.csv"), "--quiet"], "generate": ["-o", str(tmp_path / "g.root")]}
    r = _run(*args, *extra.get(args[0], []))
    assert r.returncode == 2, r.stderr
    assert msg in r.stderr and "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert not any(tmp_path.iterdir())  # nothing written


def test_blind_generate_writes_no_file(tmp_path):
    out = tmp_path / "blind.root"
    r = _run("generate", "x-to-nu", "--set", "m_X=5", "-o", str(out))
    assert r.returncode == 2 and "blind" in r.stderr and "E_R = 0.102 keV" in r.stderr
    assert not out.exists() and not any(tmp_path.iterdir())


def test_halo_with_bad_vesc_in_detector_card(tmp_path):
    halo = tmp_path / "halo.toml"
    halo.write_text('[card]\nname="bad"\ndescription="d"\nkind="halo"\n[halo]\nrho_GeV_cm3=0.3\n'
                    'v0_km_s=220\nv_esc_km_s=-544\nv_earth_km_s=232\n')
    src = Path(__file__).resolve().parents[1] / "detectors" / "xenon1t_2018.toml"
    det = tmp_path / "xe.toml"
    text = src.read_text()
    assert 'card = "shm_xenon1t_2018"' in text
    text = text.replace('card = "shm_xenon1t_2018"', f'card = "{halo}"')
    text = text.replace('"xenon1t_2018/', f'"{src.parents[1] / "data" / "xenon1t_2018"}/')
    det.write_text(text)
    r = _run("predict", "x-to-nu", "-d", str(det))
    assert r.returncode == 2, r.stderr
    assert "halo.toml" in r.stderr and "halo.v_esc_km_s" in r.stderr and "must be > 0" in r.stderr
