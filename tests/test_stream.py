"""Streamed generation (nudmsim.stream): same seed -> same events whatever the chunking, weights summing to the
expected events, unweighting with the right distribution, bounded chunks, errors and Ctrl-C leaving nothing."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import uproot

from nudmsim import cards, registry, stream
from nudmsim.errors import NudmsimError
from nudmsim.generate import make_events
from nudmsim.registry import EventSample


def _toy(n, rng, w=2.0):
    """A producer with known physics: x ~ U(0,1), weight w/n per event (expected total = w)."""
    x = rng.random(n)
    return EventSample(make_events({"x": x, "k": (x * 10).astype(np.int32), "ok": x > 0.5,
                                    "weight": np.full(n, w / n), "process_id": np.full(n, 7, np.int32)}), w,
                       {"what": "toy", "mc_total": float(w * (1 + 0.01 * rng.standard_normal()))})


class _Memory:
    """A sink that keeps the chunks (and records their sizes)."""

    compression = "none"

    def open(self, tmp, dtypes, first):
        self.dtypes, self.chunks, self.meta = dtypes, [], None
        self.tmp = tmp

    def write(self, cols):
        self.chunks.append({k: np.array(v) for k, v in cols.items()})

    def close(self, metadata):
        self.meta = metadata
        self.tmp.write_text("done")

    def abort(self):
        pass

    def column(self, k):
        return np.concatenate([c[k] for c in self.chunks])


def _run(tmp_path, producer, n, seed, chunk_events, block=1000, name="out.dat", **kw):
    sink = _Memory()
    res = stream.run(producer, n, seed, sink, tmp_path / name, block=block, chunk_events=chunk_events,
                     metadata=lambda r: {"n": r.n_written}, **kw)
    return sink, res


@pytest.mark.parametrize("chunk", [1000, 3000, 7000, 100_000])
def test_same_seed_same_events_whatever_the_chunk_size(tmp_path, chunk):
    ref, _ = _run(tmp_path, _toy, 10_500, 42, 1000, name="ref.dat")
    sink, res = _run(tmp_path, _toy, 10_500, 42, chunk)
    for k in ("x", "k", "ok", "weight"):
        assert np.array_equal(sink.column(k), ref.column(k)), k
    assert max(len(c["x"]) for c in sink.chunks) <= max(chunk, 1000)  # chunks are whole blocks
    assert res.n_written == 10_500
    other, _ = _run(tmp_path, _toy, 10_500, 43, chunk, name="other.dat")
    assert not np.array_equal(other.column("x"), ref.column("x"))


def test_event_i_depends_only_on_its_block_stream(tmp_path):
    """Event i is the producer's output for block i // block with rng PCG64(SeedSequence(seed, spawn_key=(b,))),
    the b-th child of SeedSequence(seed).spawn(); weights are rescaled by n_b / N."""
    sink, _ = _run(tmp_path, _toy, 2500, 9, 2000)
    x = sink.column("x")
    child = np.random.SeedSequence(9).spawn(3)[2]
    direct = _toy(500, np.random.Generator(np.random.PCG64(child)))
    assert np.array_equal(x[2000:], direct.events["x"].to_numpy())
    w = sink.column("weight")
    np.testing.assert_allclose(w[2000:], 2.0 / 500 * 500 / 2500, rtol=1e-15)
    assert w.sum() == pytest.approx(2.0, rel=1e-12)  # the file's weights sum to the expected events


def test_coherent_file_identical_for_any_chunk_size(tmp_path):
    """The real generator through the ROOT sink: 3 blocks of 65536, chunks of 1 block vs all in one chunk."""
    entry = registry.get_process("cevns")
    card = cards.load_detector("coherent_csi_2017")

    def prod(k, rng):
        return entry.generate({}, card, k, rng)

    arrays = []
    for i, chunk in enumerate((stream.BLOCK_EVENTS, 4 * stream.BLOCK_EVENTS)):
        p = tmp_path / f"c{i}.root"
        res = stream.run(prod, 150_000, 5, stream.RootSink("zstd"), p, chunk_events=chunk,
                         metadata=lambda r: {"seed": 5})
        with uproot.open(p) as f:
            arrays.append(f["events"].arrays(library="np"))
            assert f["events"]["weight"].num_baskets == (3 if i == 0 else 1)
        # the file's expected total is the n_b-weighted mean of the block estimates = the sum of its weights
        assert res.expected_total == pytest.approx(arrays[-1]["weight"].sum(), rel=1e-12)
    assert arrays[0].keys() == arrays[1].keys()
    for k in arrays[0]:
        assert np.array_equal(arrays[0][k], arrays[1][k]), k
    # an independent number: the engine's deterministic expectation after the response (quadrature x response
    # matrices, no MC); the weights' sum estimates it with a relative spread of ~0.3% at 1.5e5 events
    from nudmsim.entries import experiment_of

    expected = experiment_of(card).expected("cevns", {}).total
    assert arrays[0]["weight"].sum() == pytest.approx(expected, rel=0.015)


def test_stream_leaves_a_core_to_the_writer_and_the_events_do_not_depend_on_it(tmp_path):
    """While streaming, the producer's numba kernels run on one thread fewer (a core for the writer); the
    thread count is restored afterwards, and the events equal those generated with every thread."""
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two numba threads")
    entry = registry.get_process("cevns")
    card = cards.load_detector("coherent_csi_2017")
    before, seen = numba.get_num_threads(), []

    def prod(k, rng):
        seen.append(numba.get_num_threads())
        return entry.generate({}, card, k, rng)

    p = tmp_path / "c.root"
    stream.run(prod, 70_000, 5, stream.RootSink("zstd"), p, metadata=lambda r: {"seed": 5})
    assert set(seen) == {max(1, min(before, numba.config.NUMBA_NUM_THREADS - 1))}
    assert numba.get_num_threads() == before
    blocks = list(stream.iter_blocks(lambda k, rng: entry.generate({}, card, k, rng), 70_000, 5))
    with uproot.open(p) as f:
        written = f["events"].arrays(library="np")
    for k, v in written.items():
        assert np.array_equal(v, np.concatenate([b.columns[k] for b in blocks])), k


def test_block_infos_merged(tmp_path):
    sink, res = _run(tmp_path, _toy, 5000, 1, 2000)
    assert res.info["what"] == "toy"
    assert res.info["mc_total"] == pytest.approx(2.0, rel=0.05) and res.info["mc_total"] != 2.0
    assert res.expected_total == 2.0  # the same total in every block is kept exactly


def test_unweighted_is_poisson_with_the_expected_mean(tmp_path):
    """k_i ~ Poisson(w_i) per event: the total is Poisson(sum w) (mean = variance = sum w) and every kept
    event has weight 1; kept events follow w (here: uniform in x)."""
    counts = []
    for seed in range(40):
        sink, res = _run(tmp_path, lambda n, rng: _toy(n, rng, w=300.0), 4000, seed, 2000, name=f"u{seed}.dat",
                         unweighted=True)
        counts.append(res.n_written)
        if seed == 0:
            assert np.all(sink.column("weight") == 1.0)
            assert 0.3 < sink.column("x").mean() < 0.7
    counts = np.array(counts)
    assert abs(counts.mean() - 300.0) < 5 * np.sqrt(300.0 / len(counts))
    assert 0.4 * 300 < counts.var(ddof=1) < 1.8 * 300


def test_unweighted_refused_when_the_exposure_holds_too_many_events(tmp_path):
    with pytest.raises(NudmsimError, match="drop --unweighted"):
        _run(tmp_path, lambda n, rng: _toy(n, rng, w=1e9), 1000, 1, 1000, unweighted=True)
    assert list(tmp_path.iterdir()) == []


def test_columns_selection(tmp_path):
    sink, res = _run(tmp_path, _toy, 1000, 1, 1000, columns="ok", observables=("ok",))
    assert res.columns == ["ok", "weight", "process_id"]
    sink, res = _run(tmp_path, _toy, 1000, 1, 1000, columns="truth", observables=("ok",))
    assert res.columns == ["x", "k", "weight", "process_id"]
    sink, res = _run(tmp_path, _toy, 1000, 1, 1000, columns="observables", observables=("ok",))
    assert res.columns == ["ok", "weight", "process_id"]
    with pytest.raises(NudmsimError, match="declares no detector-level"):
        _run(tmp_path, _toy, 1000, 1, 1000, columns="observables")


def test_chunks_are_written_big_endian_without_conversion(tmp_path):
    sink, _ = _run(tmp_path, _toy, 3000, 1, 2000)
    for c in sink.chunks:
        assert c["x"].dtype == np.dtype(">f8") and c["k"].dtype == np.dtype(">i4")
    assert sink.column("k").astype(int).max() <= 9


def test_non_finite_weights_refused_before_writing(tmp_path):
    def bad(n, rng):
        s = _toy(n, rng)
        w = s.events["weight"].to_numpy().copy()
        w[3] = np.inf
        return EventSample(make_events({"x": s.events["x"].to_numpy(), "weight": w}), 2.0, {})

    with pytest.raises(NudmsimError, match="not finite"):
        _run(tmp_path, bad, 3000, 1, 1000)
    assert list(tmp_path.iterdir()) == []


def test_writer_error_reaches_the_caller_and_removes_the_file(tmp_path):
    class Failing(_Memory):
        def write(self, cols):
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        stream.run(_toy, 50_000, 1, Failing(), tmp_path / "f.dat", block=1000, chunk_events=1000)
    assert list(tmp_path.iterdir()) == []


def test_interrupt_in_the_producer_leaves_nothing(tmp_path):
    calls = []

    def prod(n, rng):
        calls.append(n)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return _toy(n, rng)

    with pytest.raises(KeyboardInterrupt):
        stream.run(prod, 100_000, 1, _Memory(), tmp_path / "i.dat", block=1000, chunk_events=1000)
    assert list(tmp_path.iterdir()) == [] and len(calls) == 4


def test_swallowed_ctrl_c_still_stops_the_run(tmp_path):
    """SIGINT delivered while C code swallows the exception (numba compiling: "Exception ignored on calling
    ctypes callback function") ran the whole 1e8 events; the recorded Ctrl-C stops at the next block."""
    calls = []

    def prod(n, rng):
        calls.append(n)
        if len(calls) == 3:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):  # let the handler run here, inside the "C callback"
                    pass
            except KeyboardInterrupt:
                pass  # swallowed, as ctypes does
        return _toy(n, rng)

    with pytest.raises(KeyboardInterrupt):
        stream.run(prod, 100_000, 1, _Memory(), tmp_path / "s.dat", block=1000, chunk_events=1000)
    assert len(calls) == 3 and list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_chunk_size_from_memory():
    b = stream.BLOCK_EVENTS
    assert stream.chunk_events_for(80.0, available=64e9) == stream.CHUNK_EVENTS_MAX
    assert stream.chunk_events_for(80.0, available=1e8) == b  # little memory: one block, never zero
    k = stream.chunk_events_for(80.0, available=2.2e9)
    assert k % b == 0 and k * 80 * (stream.QUEUE_DEPTH + 3) <= 2.2e9 / 8


def test_output_format_by_suffix():
    assert stream.output_format("a.root") == "root"
    assert stream.output_format("a.HepMC3") == "hepmc" and stream.output_format("a.hepmc") == "hepmc"
    with pytest.raises(NudmsimError, match=r"\.root \(ROOT\) or \.hepmc"):
        stream.output_format("a.txt")


def test_generate_progress_bar_only_on_a_terminal(tmp_path, monkeypatch, capsys):
    """`generate` draws the shared nudmsim.progress bar on a terminal, in events, and nothing otherwise."""
    import io
    import sys

    from nudmsim.cli.main import main

    assert main(["generate", "cevns", "-n", "70000", "--seed", "1", "-o", str(tmp_path / "a.root")]) == 0
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["generate", "cevns", "-n", "70000", "--seed", "1", "-o", str(tmp_path / "b.root")]) == 0
    assert "generate cevns" in tty.getvalue() and "70.0k/70.0k" in tty.getvalue()
    tty2 = Tty()
    monkeypatch.setattr(sys, "stderr", tty2)
    assert main(["generate", "cevns", "-n", "70000", "--quiet", "-o", str(tmp_path / "c.root")]) == 0
    assert tty2.getvalue() == ""


@pytest.mark.parametrize("delay_s", [0.2, 0.8])
def test_ctrl_c_during_start_up_ends_the_run_cleanly(tmp_path, delay_s):
    """A Ctrl-C while the command is still importing and loading caches (where a library can swallow the
    KeyboardInterrupt) ends the run: exit 130, one line, no traceback, no file (nudmsim.interrupts)."""
    import subprocess
    import sys
    import time

    out = tmp_path / "sig.root"
    p = subprocess.Popen([sys.executable, "-m", "nudmsim", "generate", "cevns", "-n", "1e8", "--seed", "1",
                          "-o", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay_s)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "nudmsim: interrupted (no output written)"
    assert list(tmp_path.iterdir()) == []


def test_page_cache_recycling_keeps_the_file_intact(tmp_path, monkeypatch):
    """The ROOT writer's page-cache recycling (write-back + drop behind the end of the file) with steps small
    enough to run many times in a few MB: the file reads back exactly, in uproot and with the cache dropped."""
    from nudmsim import io

    monkeypatch.setattr(io.PageRecycler, "STEP", 1 << 16)
    monkeypatch.setattr(io.PageRecycler, "LAG", 1 << 18)
    rng = np.random.default_rng(4)
    cols = {"x": rng.random(400_000), "k": rng.integers(0, 3, 400_000).astype(np.int32),
            "weight": rng.random(400_000)}
    p = tmp_path / "r.root"
    with io.atomic_output(p) as tmp:
        w = io.RootWriter(tmp, {k: v.dtype for k, v in cols.items()})
        for a in range(0, 400_000, 50_000):
            w.write({k: v[a:a + 50_000].astype(io.big_endian(v.dtype)) for k, v in cols.items()})
        dropped = w.pages.dropped
        w.close({"seed": 1})
    if w.pages._sync is not None:  # Linux: the recycler ran (elsewhere it is a no-op)
        assert dropped >= (1 << 20)
    with uproot.open(p) as f:
        back = f["events"].arrays(library="np")
    for k, v in cols.items():
        assert np.array_equal(back[k], v), k
