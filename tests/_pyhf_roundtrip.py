"""Reusable check of the pyhf export: a nudmsim Workspace, written as a pyhf workspace, read back by pyhf and
fitted by pyhf, gives the same best-fit parameter of interest (used for COHERENT; the W analysis will use it
when it is on the engine)."""
import json

import numpy as np

from nudmsim.stats.likelihood import fit
from nudmsim.stats.pyhf_export import pyhf_fit


def pyhf_roundtrip(ws, path=None):
    """(nudmsim best-fit POI, its error, pyhf best-fit POI): the spec goes through JSON text (and ``path``
    when given) and pyhf's own schema validation."""
    import pyhf

    spec = ws.to_pyhf()
    text = json.dumps(spec)
    if path is not None:
        path.write_text(text)
        text = path.read_text()
    spec = json.loads(text)
    pyhf.Workspace(spec)                      # validates against pyhf's JSON schema
    ours = fit(ws.spec())
    if not ours.valid:        # e.g. an EDM just above goal next to a 3-knot histosys kink: MIGRAD strategy 2
        ours = fit(ws.spec(), strategy=2)
    assert ours.valid, ours
    theirs = pyhf_fit(spec)
    return ours.values[ws.poi], ours.errors[ws.poi], theirs[ws.poi]


def assert_pyhf_roundtrip(ws, rel=0.02):
    a, err, b = pyhf_roundtrip(ws)
    assert np.isfinite(b) and abs(b - a) < rel * max(abs(a), err), (ws.name, a, b)
    return a, err, b
