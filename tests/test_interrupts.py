"""Interrupted runs: Ctrl-C and SIGTERM end a long `generate` promptly with nothing left behind; a `kill -9`
leaves a recognisable temporary that the next run in the folder removes.

Before issue 10 SIGINT waited for the compiled kernel (up to 27 s for 1e8 events) and a killed run's hidden
``.part`` file stayed forever.  The latency bound here is generous (the test machines are shared); the measured
latency is in ``benchmarks/bench_generate_stream.py``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _start(out: Path, n="1e8"):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen([sys.executable, "-m", "nudmsim", "generate", "cevns", "-n", n, "--seed", "1", "-o",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_part(folder: Path, proc, timeout=120.0) -> list[str]:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        names = os.listdir(folder)
        if names:
            return names
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    pytest.fail("the run never started writing")


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_a_1e8_run_quickly_and_removes_the_file(tmp_path, sig, code):
    proc = _start(tmp_path / "big.root")
    names = _wait_for_part(tmp_path, proc)
    assert len(names) == 1 and names[0].startswith(".big.root.nudmsim-") and ".part" in names[0]
    time.sleep(1.0)  # well inside the generation (1e8 events take tens of seconds)
    t0 = time.perf_counter()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    latency = time.perf_counter() - t0
    assert proc.returncode == code, err
    assert os.listdir(tmp_path) == []
    assert "Traceback" not in err
    if sig == signal.SIGINT:
        assert err.strip().splitlines() == ["nudmsim: interrupted (no output written)"]
    assert latency < 10.0  # ~0.1 s measured; bound for a loaded shared machine


def test_kill_9_leaves_a_part_that_the_next_run_removes(tmp_path):
    proc = _start(tmp_path / "big.root")
    names = _wait_for_part(tmp_path, proc)
    proc.kill()
    proc.wait()
    assert os.listdir(tmp_path) == names  # nothing could clean up after SIGKILL
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    r = subprocess.run([sys.executable, "-m", "nudmsim", "generate", "cevns", "-n", "1000", "-o",
                        str(tmp_path / "small.root")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert os.listdir(tmp_path) == ["small.root"]
