"""Generic event-sample helpers shared by all generators.

Generators live next to their physics (``nudmsim/analyses/*`` wire source x process x detector); this
module holds what they share: building the awkward event record, weighted -> unweighted conversion,
and the run metadata that goes into the ROOT file.
"""
from __future__ import annotations

import awkward as ak
import numpy as np

from . import __version__
from .errors import NudmsimError
from .registry import EventSample


def make_rng(seed: int | None) -> np.random.Generator:
    """The one way nudmsim makes random streams: PCG64 seeded by ``seed``."""
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
        raise NudmsimError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.Generator(np.random.PCG64(seed))


def make_events(columns: dict[str, np.ndarray]) -> ak.Array:
    """Zip equal-length 1-d numpy columns into an awkward record array (one record per event)."""
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"event columns have different lengths: {lengths}")
    return ak.Array({k: np.asarray(v) for k, v in columns.items()})


def check_n_events(n) -> int:
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise NudmsimError(f"number of events must be a positive integer, got {n!r} (use -n 100000)")
    return int(n)


def unweighted(sample: EventSample, rng: np.random.Generator) -> EventSample:
    """Poisson-fluctuated unweighted sample: N ~ Poisson(sum w) events drawn with probability w_i/sum w.

    Each returned event has weight 1 and represents one observed event in the card's exposure."""
    ev = sample.events
    w = ak.to_numpy(ev["weight"]).astype(float)
    total = float(w.sum())
    if not np.isfinite(total) or total < 0:
        raise NudmsimError("cannot unweight: weights are not finite and non-negative")
    n_obs = int(rng.poisson(total))
    if n_obs > max(10 * len(w), 10_000_000):  # e.g. LHC W samples: ~1e9 events in the exposure
        raise NudmsimError(f"cannot unweight: the exposure holds {n_obs:.3g} events, more than 10x the "
                           f"{len(w)} generated (drop --unweighted, or use a card with a smaller exposure)")
    if n_obs == 0 or total == 0:
        picked = ev[:0]
    else:
        idx = rng.choice(len(w), size=n_obs, replace=True, p=w / total)
        picked = ev[np.sort(idx)]
    cols = {f: ak.to_numpy(picked[f]) for f in picked.fields}
    cols["weight"] = np.ones(len(picked))
    info = dict(sample.info, unweighted=True, n_observed=n_obs)
    return EventSample(make_events(cols), sample.expected_total, info)


def run_metadata(process: str, params: dict, card, seed, n_generated: int, sample: EventSample,
                 **extra) -> dict:
    """Metadata stored with every event file (see nudmsim.io)."""
    meta = {
        "generator": "nudmsim",
        "version": __version__,
        "process": process,
        "model": dict(params),
        "card_name": card.name if card is not None else "",
        "card_file": str(card.path.name) if card is not None else "",
        "card_sha256": card.sha256 if card is not None else "",
        "seed": -1 if seed is None else int(seed),
        "n_generated": int(n_generated),
        "n_events": int(len(sample.events)),
        "expected_total": float(sample.expected_total),
    }
    meta.update({k: v for k, v in sample.info.items() if isinstance(v, (int, float, str, list, dict))})
    meta.update(extra)
    return meta
