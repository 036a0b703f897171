"""nudmsim scan: schema errors, the same table in-process and on a real LocalCluster, kill + --resume."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nudmsim import scan, scanfile
from nudmsim.cli.main import main
from nudmsim.errors import CardError

ROOT = Path(__file__).resolve().parents[1]

SCAN = """
[scan]
name = "t"

[[limit]]
analysis = "kinetic-decoupling"
masses = {{ from = "100keV", to = "20MeV", n = {n} }}
ratios = [3, 10]

[[predict]]
process = "nu-to-x"
grid = {{ m_X = ["1MeV", "10MeV"], y_X = [1e-6, 1e-5] }}
set = {{ y_q = 1e-4 }}
phi_ratio = 3
"""


def _write(tmp_path, n=3, text=None):
    p = tmp_path / "s.toml"
    p.write_text(text if text is not None else SCAN.format(n=n))
    return p


def _table(path):
    import pandas as pd

    df = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
    return df.drop(columns=["seconds"]).sort_values("index").reset_index(drop=True)


def test_scan_file_unknown_key_names_the_key_and_suggests(tmp_path):
    p = _write(tmp_path, text='[scan]\nname = "x"\n[[limit]]\nanalysis = "kinetic-decoupling"\nmases = [1]\n')
    with pytest.raises(CardError) as exc:
        scanfile.load(p)
    assert "limit[0].mases" in str(exc.value) and "did you mean 'masses'" in str(exc.value)


def test_scan_points_and_keys_are_deterministic(tmp_path):
    spec = scanfile.load(_write(tmp_path, n=4))
    pts = scanfile.expand(spec)
    assert len(pts) == 4 * 2 + 4
    assert [p["key"] for p in pts] == [p["key"] for p in scanfile.expand(scanfile.load(_write(tmp_path, n=4)))]
    assert len({p["key"] for p in pts}) == len(pts)
    ms = [p["m_MeV"] for p in pts if p["kind"] == "limit"][:4]
    assert np.allclose(ms, np.geomspace(0.1, 20.0, 4))  # "100keV" parsed with its unit
    pred = [p for p in pts if p["kind"] == "predict"]
    assert all(abs(p["params"]["m_phi"] - 3 * p["params"]["m_X"]) < 1e-12 for p in pred)


def test_scan_limit_rows_equal_nudmsim_limit(tmp_path):
    """A scan row is the same number as `nudmsim limit` at that mass (both call the analysis entry)."""
    out = tmp_path / "t.csv"
    assert main([ "scan", str(_write(tmp_path, n=2)), "-o", str(out), "--scheduler", "sync", "--quiet"]) == 0
    df = _table(out)
    lim = tmp_path / "l.csv"
    assert main(["limit", "kinetic-decoupling", "--masses", "100keV,20MeV", "--ratio", "10", "-o", str(lim),
                 "--scheduler", "sync", "--quiet", "--no-hepdata"]) == 0
    rows = [ln for ln in lim.read_text().splitlines() if not ln.startswith("#")][1:]
    ref = np.array([float(r.split(",")[1]) for r in rows])
    got = df[(df.kind == "limit") & (df.ratio == 10)].sort_values("m_MeV").observed.to_numpy()
    assert np.allclose(got, ref, rtol=1e-6)


@pytest.mark.slow
def test_scan_on_a_local_cluster_gives_the_in_process_table(tmp_path):
    p = _write(tmp_path, n=3)
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert main(["scan", str(p), "-o", str(a), "--scheduler", "sync", "--quiet"]) == 0
    seen = {}
    real = scan.dask_client

    def spy(*args, **kw):  # record that a real LocalCluster with 2 worker processes ran the points
        cm = real(*args, **kw)
        client = cm.__enter__()
        seen["workers"] = len(client.scheduler_info()["workers"])
        seen["cluster"] = type(client.cluster).__name__ if client.cluster is not None else None

        class _CM:
            def __enter__(self):
                return client

            def __exit__(self, *exc):
                return cm.__exit__(*exc)

        return _CM()

    scan.dask_client = spy
    try:
        assert main(["scan", str(p), "-o", str(b), "--scheduler", "local", "--workers", "2", "--quiet"]) == 0
    finally:
        scan.dask_client = real
    assert seen == {"workers": 2, "cluster": "LocalCluster"}
    ta, tb = _table(a), _table(b)
    assert ta.equals(tb)
    assert (ta.status == "ok").all() and len(ta) == 3 * 2 + 4


@pytest.mark.slow
def test_killed_scan_resumes_to_the_uninterrupted_table(tmp_path):
    """SIGKILL a scan mid-way (subprocess); --resume completes it: same table, no duplicate rows."""
    p = _write(tmp_path, n=10)
    full = tmp_path / "full.csv"
    assert main(["scan", str(p), "-o", str(full), "--scheduler", "sync", "--quiet"]) == 0
    out = tmp_path / "cut.csv"
    journal = scanfile.journal_path(out)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "nudmsim", "scan", str(p), "-o", str(out), "--scheduler", "sync",
                             "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 300:
        if journal.exists() and len(journal.read_text().splitlines()) >= 5:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(scanfile.read_rows(journal))
    assert 5 <= n_before < 24, "the scan must be killed mid-way"
    assert not out.exists()  # the table is only written when the scan completes
    assert main(["scan", str(p), "-o", str(out), "--scheduler", "sync", "--quiet", "--resume"]) == 0
    cut, ref = _table(out), _table(full)
    assert len(cut) == len(ref) == 24 and cut.key.is_unique
    assert cut.drop(columns=["error"]).equals(ref.drop(columns=["error"]))
    rows = scanfile.read_rows(journal)
    assert len(rows) == 24  # the resumed run did not redo the points the killed run finished


def test_failed_points_are_listed_and_rerun_on_resume(tmp_path, capsys, monkeypatch):
    p = _write(tmp_path, n=2)
    out = tmp_path / "f.csv"
    real = scanfile.run_point
    calls = []

    def flaky(pt):
        calls.append(pt["key"])
        if pt["index"] == 1 and len([k for k in calls if k == pt["key"]]) == 1:
            raise_row = real(dict(pt, kind="limit", analysis="kinetic-decoupling", options={"channels": "bad"}))
            return dict(raise_row, index=pt["index"], key=pt["key"])
        return real(pt)

    monkeypatch.setattr(scanfile, "run_point", flaky)
    assert main(["scan", str(p), "-o", str(out), "--scheduler", "sync", "--quiet"]) == 1
    assert "1 failed point" in capsys.readouterr().out
    assert (_table(out).status == "failed").sum() == 1
    assert main(["scan", str(p), "-o", str(out), "--scheduler", "sync", "--quiet", "--resume"]) == 0
    t = _table(out)
    assert (t.status == "ok").all() and t.key.is_unique
    assert len(calls) == 8 + 1  # only the failed point ran again


def test_auto_scheduler_keeps_cheap_scans_in_process():
    assert not scan.worth_a_cluster(100, 0.01, 2)          # 1 s of work: a cluster never pays
    assert scan.worth_a_cluster(100, 1.0, 2)               # 100 s of work: it does
    assert not scan.worth_a_cluster(100, 1.0, 1)           # one free core: no parallelism to gain
    assert not scan.worth_a_cluster(100, 1.0, 2, warmup_s=200.0)
