"""HepMC3 output (``pyhepmc``) for processes with particle final states, so events can go on to Delphes/Geant4.

A process opts in with ``ProcessEntry.final_state(columns, info) -> FinalState``: per event, the decaying
particle (the root of the event record: W, K+, pi+) and its decay products as four-vectors in GeV.  Each
event is written as one vertex ``parent (status 2) -> products (status 1)``, units GeV and mm, the event
weight (expected events in the card's exposure) as weight ``weight``, the vertex at the origin.  By
construction of the generators the products' four-momenta add up to the parent's; the writer checks it
(relative 1e-9 of the parent energy) and refuses to write an event that does not.

Run information (``GenRunInfo``): tool ``nudmsim`` with its version, weight name ``weight``, and attributes
``nudmsim_metadata`` (the run metadata as JSON, the same as the ROOT file's ``metadata``), ``seed``,
``process``, ``command``, ``created_utc``.  HepMC3 writes the run information before the first event, so it
holds the planned number of generated events; the expected total is the first block's estimate (exact for
processes whose total comes from quadrature).

PDG codes of the non-Standard-Model particles (PDG Monte Carlo numbering scheme, section 11, "generic" dark
matter and mediators; heavy neutrino as in the MadGraph HeavyN models): :data:`PDG_CHI` 52 (spin-1/2 dark
matter chi), :data:`PDG_DARK_SCALAR` 54 (scalar mediator phi), :data:`PDG_HNL` 9900012 (heavy neutral lepton
nu_4 / N: stable and invisible in W and meson events, the decaying parent in ``hnl-decay`` events, whose decay
products carry their own codes and the decay vertex).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .errors import NudmsimError

PDG_CHI = 52
PDG_DARK_SCALAR = 54
PDG_HNL = 9900012
#: relative tolerance of the per-event four-momentum check (of the parent's energy)
CONSERVATION_RTOL = 1e-9


@dataclass
class Particles:
    """n particles: PDG codes (n,), four-momenta (n, 4) as (px, py, pz, E) in GeV, masses (n,) in GeV."""

    pid: np.ndarray
    p: np.ndarray
    m: np.ndarray

    @classmethod
    def from_components(cls, pid, e, px, py, pz, m=None):
        e, px, py, pz = (np.asarray(a, dtype=np.float64) for a in (e, px, py, pz))
        p = np.stack([px, py, pz, e], axis=1)
        if m is None:
            m = np.sqrt(np.maximum(e * e - px * px - py * py - pz * pz, 0.0))
        pid = np.broadcast_to(np.asarray(pid, dtype=np.int32), e.shape)
        return cls(pid, p, np.broadcast_to(np.asarray(m, dtype=np.float64), e.shape))


@dataclass
class FinalState:
    """Per event: ``parent`` (decays, status 2) -> ``products`` (final state, status 1).  A product whose PDG
    code is 0 in an event is absent from that event (processes with a varying number of decay products);
    ``vertex`` (n, 4): the decay vertex (x, y, z, ct) in mm, default the origin."""

    parent: Particles
    products: list
    vertex: np.ndarray | None = None

    def check_conservation(self, rtol: float = CONSERVATION_RTOL) -> None:
        total = sum(q.p for q in self.products)
        scale = np.maximum(np.abs(self.parent.p[:, 3]), 1e-300)
        bad = np.abs(total - self.parent.p).max(axis=1) > rtol * scale
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise NudmsimError(f"internal error: four-momentum not conserved in event {i} "
                               f"(parent {self.parent.p[i]}, sum of products {total[i]} GeV); nothing written")


def run_info(metadata: dict):
    import pyhepmc

    from . import __version__

    ri = pyhepmc.GenRunInfo()
    ri.tools = [pyhepmc.GenRunInfo.ToolInfo("nudmsim", __version__, "event generator for neutrino-dark-matter "
                                            "physics")]
    ri.weight_names = ["weight"]
    ri.attributes["nudmsim_metadata"] = json.dumps(metadata, sort_keys=True, allow_nan=False)
    for k in ("process", "seed", "command", "created_utc", "n_generated", "expected_total", "card_name"):
        if k in metadata:
            ri.attributes[k] = metadata[k]
    return ri


class HepMCSink:
    """Stream sink writing HepMC3 ASCII: run info first (``header(first_block) -> metadata``), then events."""

    compression = "none"

    def __init__(self, final_state, header):
        self.final_state = final_state
        self.header = header
        self.writer = None
        self.n = 0

    def open(self, tmp, dtypes, first):
        import pyhepmc

        self.run_info = run_info(self.header(first))
        self.info = first.info
        self.writer = pyhepmc.io.WriterAscii(str(tmp), self.run_info)
        self.event = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)

    def write(self, cols):
        fs = self.final_state({k: np.asarray(v).astype(np.asarray(v).dtype.newbyteorder("="), copy=False)
                               for k, v in cols.items()}, self.info)
        fs.check_conservation()
        k = len(fs.products)
        n = len(fs.parent.pid)
        parts = [fs.parent, *fs.products]
        px = np.stack([q.p[:, 0] for q in parts], axis=1)
        py = np.stack([q.p[:, 1] for q in parts], axis=1)
        pz = np.stack([q.p[:, 2] for q in parts], axis=1)
        en = np.stack([q.p[:, 3] for q in parts], axis=1)
        m = np.stack([np.asarray(q.m, dtype=np.float64) for q in parts], axis=1)
        pid = np.stack([np.asarray(q.pid, dtype=np.int32) for q in parts], axis=1)
        status = [np.array([2] + [1] * j, dtype=np.int32) for j in range(k + 1)]
        # 1-based: the products' parent is entry 1
        parents = [np.array([[0, 0]] + [[1, 1]] * j, dtype=np.int32) for j in range(k + 1)]
        vtx = np.zeros((n, 4)) if fs.vertex is None else np.asarray(fs.vertex, dtype=np.float64)
        has = pid != 0
        has[:, 0] = True
        complete = has.all(axis=1)
        w = np.asarray(cols["weight"], dtype=np.float64)
        ev, ri, wr = self.event, self.run_info, self.writer
        for i in range(n):
            if complete[i]:
                sel, j = slice(None), k
            else:
                sel = has[i]
                j = int(sel.sum()) - 1
            v = [np.concatenate([[0.0], np.full(j, vtx[i, q])]) for q in range(4)]
            ev.from_hepevt(self.n, px[i][sel], py[i][sel], pz[i][sel], en[i][sel], m[i][sel], pid[i][sel],
                           status[j], parents=parents[j], vx=v[0], vy=v[1], vz=v[2], vt=v[3], fortran=True)
            ev.weights = [float(w[i])]
            ev.run_info = ri
            wr.write(ev)
            self.n += 1

    def close(self, metadata):
        self.writer.close()
        if self.writer.failed():
            raise OSError("HepMC3 writer failed (disk full?)")

    def abort(self):
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001 - the temporary is removed anyway
                pass


def bytes_per_event(n_particles: int) -> float:
    """Size of one event in HepMC3 ASCII with full double precision (for the free-space check)."""
    return 60.0 + 140.0 * n_particles + 20.0
