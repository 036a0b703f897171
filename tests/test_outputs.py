"""Output discipline of nudmsim.io: what may be written, temporaries, stale parts of killed runs, and
all-or-nothing multi-file outputs."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nudmsim import io
from nudmsim.errors import NudmsimError


def test_check_writable_refuses_links_devices_fifos_folders(tmp_path):
    (tmp_path / "real").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    cases = {tmp_path / "link": "symbolic link", tmp_path / "dangling": "symbolic link",
             tmp_path / "fifo": "named pipe", tmp_path / "dir": "is a directory",
             f"{tmp_path}/newdir/": "names a folder", tmp_path / "real" / "x.root": "is a file, not a folder",
             tmp_path / "no" / "x.root": "does not exist", "": "empty file name"}
    try:  # a private device node (check_writable never writes, but keep the machine's /dev/null out of it)
        os.mknod(tmp_path / "null", 0o666 | __import__("stat").S_IFCHR, os.makedev(1, 3))
        cases[tmp_path / "null"] = "device node"
    except OSError:
        pass
    for path, msg in cases.items():
        with pytest.raises(NudmsimError, match=msg):
            io.check_writable(path)
    assert io.check_writable(tmp_path / "real") == tmp_path / "real"  # a regular file may be replaced


def test_atomic_output_names_and_removes_its_temporary(tmp_path):
    target = tmp_path / "a.root"
    with pytest.raises(RuntimeError):
        with io.atomic_output(target) as tmp:
            assert tmp.name.startswith(".a.root.nudmsim-") and tmp.name.endswith(".part.root")
            assert f"-{os.getpid()}-" in tmp.name and tmp.exists()
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with io.atomic_output(target) as tmp:
        tmp.write_text("ok")
    assert target.read_text() == "ok" and len(list(tmp_path.iterdir())) == 1
    mode = target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # the mode open() would give, not mkstemp's 0600


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_parts_of_dead_processes_on_this_host_are_removed(tmp_path):
    host = io._HOST
    dead = tmp_path / f".x.root.nudmsim-{_dead_pid()}-0@{host}.part.root"
    alive = tmp_path / f".y.root.nudmsim-{os.getppid()}-0@{host}.part.root"
    mine = tmp_path / f".z.root.nudmsim-{os.getpid()}-3@{host}.part.root"
    other_host = tmp_path / f".w.root.nudmsim-{_dead_pid()}-0@{host}x.part.root"
    unrelated = tmp_path / ".x.root.part"
    for p in (dead, alive, mine, other_host, unrelated):
        p.write_text("x")
    assert io.clean_stale_parts(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (alive, mine, other_host,
                                                                                  unrelated))


def test_transaction_all_or_nothing(tmp_path):
    a, b = tmp_path / "c.csv", tmp_path / "c.png"
    b.write_text("old plot")
    with pytest.raises(OSError):
        with io.transaction(a, b) as (ta, tb):
            ta.write_text("new csv")
            raise OSError(28, "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png"] and b.read_text() == "old plot"
    with io.transaction(a, b) as (ta, tb):
        assert ta.suffix == ".csv" and tb.suffix == ".png"  # format detection by suffix still works
        ta.write_text("new csv")
        tb.write_text("new plot")
    assert a.read_text() == "new csv" and b.read_text() == "new plot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.png"]
    with pytest.raises(NudmsimError, match="two outputs"):
        io.transaction(a, tmp_path / "." / "c.csv")


def test_transaction_with_the_real_writers(tmp_path):
    """write_csv / save_figure on a transaction's temporaries (their own atomic step nests)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    with io.transaction(tmp_path / "t.csv", tmp_path / "t.png") as (tc, tp):
        io.write_csv(tc, "header", {"x": np.arange(3.0)})
        io.save_figure(fig, tp)
    plt.close(fig)
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    assert "x" in (tmp_path / "t.csv").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.png"]


def test_disk_space_check(tmp_path):
    with pytest.raises(NudmsimError, match="needs about 1,000 TB"):
        io.check_disk_space(tmp_path / "x.root", 1e15, fix="fewer events")
    io.check_disk_space(tmp_path / "x.root", 1e3)


def test_run_metadata_refuses_non_finite(tmp_path):
    import numpy as np

    with pytest.raises(NudmsimError, match="expected_total is not finite"):
        io.write_root(tmp_path / "m.root", {"weight": np.ones(3)}, {"expected_total": float("nan")})
    assert list(tmp_path.iterdir()) == []
