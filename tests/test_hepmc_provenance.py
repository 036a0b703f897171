"""HepMC3 output for processes with particle final states, and the provenance stored with every event file."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

pyhepmc = pytest.importorskip("pyhepmc")


def _gen(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    r = subprocess.run([sys.executable, "-m", "nudmsim", "generate", *map(str, args)], capture_output=True,
                       text=True, env=env, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r


def _read_hepmc(path):
    events = []
    with pyhepmc.open(path) as f:
        for ev in f:
            parts = [(p.pid, p.status, np.array([p.momentum.px, p.momentum.py, p.momentum.pz, p.momentum.e]),
                      p.generated_mass) for p in ev.particles]
            roots = [p for p in ev.particles if p.production_vertex is None or p.production_vertex.id == 0]
            events.append((parts, len(roots), list(ev.weights), ev.run_info))
    return events


def test_w_events_read_back_with_pyhepmc(tmp_path):
    n = 3000
    _gen("w-lepton", "-n", n, "--seed", 4, "--set", "U2=0.3", "--set", "m4=20", "-o", tmp_path / "w.hepmc")
    events = _read_hepmc(tmp_path / "w.hepmc")
    assert len(events) == n
    worst, charges, heavy = 0.0, set(), 0
    for parts, n_roots, weights, _ in events:
        assert n_roots == 1 and len(parts) == 3
        (w_pid, w_st, w_p, w_m), lep, nu = parts
        assert abs(w_pid) == 24 and w_st == 2 and lep[1] == 1 and nu[1] == 1
        final = lep[2] + nu[2]
        worst = max(worst, np.max(np.abs(final - w_p)) / w_p[3])  # four-momentum conserved in every event
        # W+ -> mu+ nu_mu (PDG -13, 14), W- -> mu- anti-nu_mu; nu_4 = 9900012 with the neutrino's sign
        s = np.sign(w_pid)
        assert lep[0] == -13 * s and nu[0] in (14 * s, 9900012 * s)
        heavy += abs(nu[0]) == 9900012
        charges.add(int(s))
        m_w = np.sqrt(max(w_p[3] ** 2 - w_p[:3] @ w_p[:3], 0.0))
        assert m_w == pytest.approx(w_m, rel=1e-9)
        if abs(nu[0]) == 9900012:  # the invariant mass of the heavy neutrino is m4
            p4 = nu[2]
            assert np.sqrt(p4[3] ** 2 - p4[:3] @ p4[:3]) == pytest.approx(20.0, rel=1e-6)
    assert worst < 1e-12
    assert charges == {1, -1} and 0 < heavy < n
    # run info: the same metadata as the ROOT file's, before the first event
    ri = events[0][3]
    meta = json.loads(str(ri.attributes["nudmsim_metadata"]))
    assert meta["seed"] == 4 and meta["process"] == "w-lepton" and meta["model"]["m4"] == 20.0
    assert "--set U2=0.3" in meta["command"] and ri.weight_names == ["weight"]
    # weights: the HepMC file holds the same weighted events as the ROOT file of the same seed and -n
    _gen("w-lepton", "-n", n, "--seed", 4, "--set", "U2=0.3", "--set", "m4=20", "-o", tmp_path / "w.root")
    with uproot.open(tmp_path / "w.root") as f:
        w_root = f["events"]["weight"].array(library="np")
        l_e = f["events"]["l_E"].array(library="np")
    np.testing.assert_allclose([e[2][0] for e in events], w_root, rtol=1e-15)
    np.testing.assert_allclose([e[0][1][2][3] for e in events], l_e, rtol=1e-15)


@pytest.mark.parametrize("process,pdgs", [("meson-2body", [321, -13, 9900012]),
                                          ("meson-3body", [321, -13, 52, 54]),
                                          ("kaon-pi-phi", [321, 211, 54])])
def test_meson_decays_in_hepmc(tmp_path, process, pdgs):
    _gen(process, "-n", 500, "--seed", 1, "-o", tmp_path / "m.hepmc3")
    events = _read_hepmc(tmp_path / "m.hepmc3")
    assert len(events) == 500
    for parts, n_roots, _, _ in events:
        assert [p[0] for p in parts] == pdgs and n_roots == 1
        assert np.max(np.abs(sum(p[2] for p in parts[1:]) - parts[0][2])) < 1e-9 * parts[0][2][3]


def test_hnl_decays_in_hepmc_with_a_varying_number_of_products(tmp_path):
    """hnl-decay: N (9900012) -> 2 or 3 products per channel (absent products are not written)."""
    _gen("hnl-decay", "-n", 2000, "--seed", 3, "-o", tmp_path / "h.hepmc3")
    events = _read_hepmc(tmp_path / "h.hepmc3")
    assert len(events) == 2000
    sizes = set()
    for parts, n_roots, _, _ in events:
        assert parts[0][0] == 9900012 and parts[0][1] == 2 and n_roots == 1
        assert all(p[0] != 0 and p[1] == 1 for p in parts[1:])
        sizes.add(len(parts) - 1)
        assert np.max(np.abs(sum(p[2] for p in parts[1:]) - parts[0][2])) < 1e-9 * parts[0][2][3]
    assert sizes == {2, 3}


def test_conservation_is_checked_before_writing():
    from nudmsim.errors import NudmsimError
    from nudmsim.hepmc import FinalState, Particles

    parent = Particles.from_components(24, [100.0], [0.0], [0.0], [10.0])
    a = Particles.from_components(-13, [50.0], [0.0], [0.0], [5.0])
    b = Particles.from_components(14, [50.0], [0.0], [0.0], [5.0 + 1e-3])
    with pytest.raises(NudmsimError, match="not conserved in event 0"):
        FinalState(parent, [a, b]).check_conservation()


def test_provenance_and_drawn_seed_regenerates_the_file(tmp_path):
    t0 = datetime.datetime.now(datetime.timezone.utc)
    r = _gen("nu-to-x", "-n", 70_000, "--set", "m_X=12", "-o", tmp_path / "a.root", cwd=tmp_path)
    with uproot.open(tmp_path / "a.root") as f:
        meta = json.loads(str(f["metadata"]))
        a = f["events"].arrays(library="np")
        run = f["run"].arrays(library="np")
    # without --seed a seed is drawn, stored and printed
    assert meta["seed_drawn"] is True and 0 <= meta["seed"] < 2**63 and f"seed {meta['seed']}, drawn" in r.stdout
    assert run["seed"][0] == meta["seed"]
    assert meta["command"] == f"nudmsim generate nu-to-x -n 70000 --set m_X=12 -o {tmp_path / 'a.root'}"
    created = datetime.datetime.fromisoformat(meta["created_utc"])
    assert created.utcoffset() == datetime.timedelta(0) and abs((created - t0).total_seconds()) < 600
    assert meta["model"] == {"m_X": 12.0, "m_phi": 30.0, "y_X": 3e-6, "y_q": 1e-4}
    assert meta["model_units"] == {"m_X": "MeV", "m_phi": "MeV", "y_X": "1", "y_q": "1"}
    codes = meta["codes"]
    assert codes["target_id"] == {"0": "Cs133", "1": "I127"}
    assert codes["flavour"] == {"0": "nu_mu", "1": "nu_e", "2": "nu_mu_bar"}
    assert codes["process_id"]["11"] == "nu-to-x" and set(np.unique(a["process_id"])) == {11}
    assert set(np.unique(a["target_id"])) == {0, 1} and set(np.unique(a["flavour"])) == {0, 1, 2}
    assert meta["seed_block"] == 65536 and meta["n_events"] == 70_000
    # ... and the stored seed reproduces the file
    _gen("nu-to-x", "-n", 70_000, "--set", "m_X=12", "--seed", meta["seed"], "-o", tmp_path / "b.root")
    with uproot.open(tmp_path / "b.root") as f:
        b = f["events"].arrays(library="np")
        assert json.loads(str(f["metadata"]))["seed_drawn"] is False
    for k in a:
        assert np.array_equal(a[k], b[k]), k
