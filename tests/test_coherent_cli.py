"""COHERENT through the command line: ROOT files readable by real ROOT, seeds, and bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import uproot

from nudmsim.io import read_root


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nudmsim", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("coh")
    out = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        r = _run("generate", "cevns", "-n", "20000", "--seed", str(seed), "-o", str(d / f"{name}.root"))
        assert r.returncode == 0, r.stderr
        out[name] = d / f"{name}.root"
    return out


def test_root_file_opens_in_root(files):
    # the test extra installs the real ROOT (PyPI "root"); in CI its absence is a failure, not a skip
    ROOT = __import__("ROOT") if os.environ.get("CI") else pytest.importorskip("ROOT")
    f = ROOT.TFile.Open(str(files["a"]))
    assert f and not f.IsZombie()
    tree = f.Get("events")
    assert tree.GetEntries() == 20000
    total = 0.0
    for ev in tree:
        total += ev.weight
    with uproot.open(files["a"]) as uf:
        w = uf["events"]["weight"].array(library="np")
    assert total == pytest.approx(float(w.sum()), rel=1e-12)
    h = ROOT.TH1D("h", "", 25, 0, 50)
    tree.Draw("pe>>h", "weight*(acc_eff > 0)", "goff")
    ev, _ = read_root(files["a"])
    sel = (ev["pe"].to_numpy() >= 0) & (ev["pe"].to_numpy() < 50) & (ev["acc_eff"].to_numpy() > 0)
    ref = ev["weight"].to_numpy()[sel].sum()
    assert h.Integral() == pytest.approx(ref, rel=1e-9)
    f.Close()


def test_same_seed_same_content_different_seed_differs(files):
    ea, ma = read_root(files["a"])
    eb, mb = read_root(files["b"])
    ec, mc = read_root(files["c"])
    assert ea.fields == eb.fields
    for k in ea.fields:
        assert np.array_equal(ea[k].to_numpy(), eb[k].to_numpy()), k
    run_only = ("created_utc", "command")  # provenance of the run itself: when, and the -o name
    assert {k: v for k, v in ma.items() if k not in run_only} == {k: v for k, v in mb.items() if k not in run_only}
    assert ma["command"].endswith("a.root") and mb["command"].endswith("b.root")
    assert ma["seed"] == 7 and ma["n_generated"] == 20000 and ma["card_name"] == "coherent_csi_2017"
    assert not np.array_equal(ea["E_R_keV"].to_numpy(), ec["E_R_keV"].to_numpy())
    assert mc["seed"] == 8


def test_nu_to_x_runs_with_defaults_and_set(tmp_path):
    r = _run("predict", "nu-to-x", "--json")
    assert r.returncode == 0, r.stderr
    pred = json.loads(r.stdout)
    assert pred["in the observables, after the response"] > 1
    r = _run("generate", "nu-to-x", "--set", "m_X=20", "--set", "m_phi=0.2GeV", "-n", "5000", "--seed", "1",
             "-o", str(tmp_path / "x.root"))
    assert r.returncode == 0, r.stderr
    _, meta = read_root(tmp_path / "x.root")
    assert meta["model"]["m_phi"] == 200.0 and meta["process"] == "nu-to-x"


BAD = [
    (["generate", "cevns", "--detector", "no_such_card"], "unknown detector 'no_such_card'"),
    (["generate", "no-such-process"], "unknown process 'no-such-process'"),
    (["generate", "nu-to-x", "--set", "m_X=-5"], "m_X"),
    (["generate", "nu-to-x", "--set", "m_phi=nan"], "m_phi"),
    (["generate", "nu-to-x", "--set", "m_X=60"], "kinematic reach"),
    (["predict", "nu-to-x", "--set", "m_X=53"], "m_X < 52.8"),
]


@pytest.mark.parametrize("args,msg", BAD)
def test_bad_input_one_line_no_file(tmp_path, args, msg):
    out = tmp_path / "out.root"
    full = args + (["-o", str(out)] if args[0] == "generate" else [])
    r = _run(*full, cwd=tmp_path)
    assert r.returncode != 0
    assert msg in r.stderr and r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_malformed_card_and_unwritable_output(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('[card]\nname = "broken"\ndescription = "x"\nkind = "coherent"\n[target]\nmass_kg = \n')
    r = _run("generate", "cevns", "--detector", str(bad), "-o", str(tmp_path / "o.root"))
    assert r.returncode != 0 and "broken.toml" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0
    typo = tmp_path / "typo.toml"
    from nudmsim import cards

    typo.write_text(cards.load_detector("coherent_csi_2017").text.replace("value = 13.348",
                                                                          'value = "high"'))
    r = _run("generate", "cevns", "--detector", str(typo), "-o", str(tmp_path / "o.root"))
    assert r.returncode != 0 and "typo.toml" in r.stderr and "response[1].value" in r.stderr
    afile = tmp_path / "afile"
    afile.write_text("")
    for target in (afile / "x.root", tmp_path / "missing" / "x.root", tmp_path):   # parent is a file / missing / a dir
        r = _run("generate", "cevns", "-n", "1000", "-o", str(target))
        assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr, r.stderr
    if os.geteuid() != 0:   # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            r = _run("generate", "cevns", "-n", "1000", "-o", str(ro / "x.root"))
            assert r.returncode != 0 and "not writable" in r.stderr
            assert list(ro.iterdir()) == []
        finally:
            ro.chmod(0o700)
            ro.rmdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "broken.toml", "typo.toml"]
