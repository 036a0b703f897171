"""Observables of an experiment card: the analysis axes, their binning, and histograms of weighted rows.

Card syntax (one entry per axis, in the order of the histogram's dimensions; the key is the column name,
which carries its unit)::

    [observables]
    pe = { range = [0.0, 60.0], width = 2.0 }          # 30 bins of 2 PE
    t_us = { edges = [0.0, 0.5, 1.0, 2.0, 6.0] }        # explicit edges (strictly increasing)
    E_R_keV = { range = [1.0, 100.0], bins = 20, log = true }
    E_obs_ee_keV = { centres = { file = "borexino/spectrum.csv", column = "c2_energy_keV" }, edges = [70.0, 1e7] }

``centres`` takes the bins of a released spectrum from its bin centres (edges halfway between consecutive
centres, the outer ones half a spacing out); ``edges`` given with it are added (e.g. a threshold below the
spectrum and an overflow bin above it).

A :class:`Observables` histograms a :class:`~nudmsim.response.stage.Batch` (rows outside the edges are
dropped, as in ``numpy.histogramdd``; the upper edge of the last bin is included).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CardError
from .schema import Field, Section, validate

AXIS = Section("observables.<column>", "one analysis axis; give exactly one of edges, width, bins (with range)",
               fields=(
                   Field("edges", list, default=None, doc="bin edges, strictly increasing (column's unit)"),
                   Field("range", list, default=None, length=2, doc="[low, high] of the axis (column's unit)"),
                   Field("width", float, default=None, lo=0, lo_open=True, doc="bin width (with range)"),
                   Field("bins", int, default=None, lo=1, doc="number of bins (with range)"),
                   Field("log", bool, default=False, doc="logarithmic bins (with range and bins)"),
                   Field("label", str, default="", doc="axis label for plots (mathtext allowed)"),
                   Field("centres", dict, default=None,
                         doc="{ file, column }: bins from a table's bin centres (edges halfway between them, "
                             "the outer ones half a spacing out), merged with `edges` if given"),
               ))


@dataclass(frozen=True)
class Axis:
    """One observable: ``name`` (a column, unit in the name), bin ``edges`` and a plot ``label``."""

    name: str
    edges: np.ndarray
    label: str = ""

    @property
    def nbins(self) -> int:
        return len(self.edges) - 1

    @property
    def centres(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    def index(self, x: np.ndarray) -> np.ndarray:
        """Bin index of each value, -1 outside [edges[0], edges[-1]] (last edge included)."""
        e = self.edges
        i = np.searchsorted(e, x, side="right") - 1
        i = np.where(x == e[-1], len(e) - 2, i)
        return np.where((x >= e[0]) & (x <= e[-1]), i, -1)

    def __repr__(self) -> str:
        return f"Axis({self.name!r}, {self.nbins} bins on [{self.edges[0]:g}, {self.edges[-1]:g}])"


def _centre_edges(name: str, spec, path, resolve_file) -> np.ndarray:
    from .response.tables import read_table
    from .schema import suggest

    key = f"observables.{name}.centres"
    if not isinstance(spec, dict) or set(spec) != {"file", "column"}:
        raise CardError(path, key, "must be { file = \"...\", column = \"...\" }")
    if resolve_file is None:
        raise CardError(path, key, "cannot be read here (no file resolver)")
    fpath = resolve_file(spec["file"], f"{key}.file")
    header, arr = read_table(fpath)
    if spec["column"] not in header:
        raise CardError(path, f"{key}.column", f"file {fpath.name} has no column '{spec['column']}'",
                        suggest(spec["column"], header) or f"columns: {', '.join(header)}")
    x = arr[:, header.index(spec["column"])]
    if len(x) < 2 or np.any(np.diff(x) <= 0):
        raise CardError(path, key, f"column '{spec['column']}' of {fpath.name} must hold at least two strictly "
                        "increasing bin centres")
    mid = 0.5 * (x[1:] + x[:-1])
    return np.concatenate([[x[0] - 0.5 * (x[1] - x[0])], mid, [x[-1] + 0.5 * (x[-1] - x[-2])]])


def axis_from_card(name: str, table, path, resolve_file=None) -> Axis:
    key = f"observables.{name}"
    v = validate(table, AXIS, path=path, prefix=key)
    if v["centres"] is not None:
        edges = _centre_edges(name, v["centres"], path, resolve_file)
        for k in ("range", "width", "bins"):
            if v[k] is not None:
                raise CardError(path, f"{key}.{k}", "is not used with centres", "drop it (or add edges = [...])")
        if v["edges"] is not None:
            edges = np.union1d(edges, np.asarray(v["edges"], float))
        if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
            raise CardError(path, key, "bin edges must be finite and strictly increasing")
        return Axis(name, edges, v["label"])
    given = [k for k in ("edges", "width", "bins") if v[k] is not None]
    if len(given) != 1:
        raise CardError(path, key, f"give exactly one of edges, width, bins (got {', '.join(given) or 'none'})",
                        "e.g. { range = [0.0, 60.0], width = 2.0 }")
    if v["edges"] is not None:
        edges = np.asarray(v["edges"], float)
        if v["range"] is not None:
            raise CardError(path, f"{key}.range", "is not used with edges", "drop it")
    else:
        if v["range"] is None:
            raise CardError(path, f"{key}.range", "is missing", f"give range = [low, high] with {given[0]}")
        lo, hi = v["range"]
        if not hi > lo:
            raise CardError(path, f"{key}.range", f"must be increasing, got [{lo:g}, {hi:g}]",
                            f"write range = [{min(lo, hi):g}, {max(lo, hi):g}]")
        if v["width"] is not None:
            n = (hi - lo) / v["width"]
            if abs(n - round(n)) > 1e-9 * max(1.0, n):
                raise CardError(path, f"{key}.width", f"{v['width']:g} does not divide the range "
                                f"[{lo:g}, {hi:g}] into whole bins", "choose a width that does, or give bins")
            edges = lo + v["width"] * np.arange(int(round(n)) + 1)
        elif v["log"]:
            if lo <= 0:
                raise CardError(path, f"{key}.range", "must be > 0 for log bins")
            edges = np.geomspace(lo, hi, v["bins"] + 1)
        else:
            edges = np.linspace(lo, hi, v["bins"] + 1)
    if len(edges) < 2 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise CardError(path, key, "bin edges must be finite and strictly increasing (at least two)")
    return Axis(name, edges, v["label"])


class Observables:
    """The ordered analysis axes; ``histogram(batch)`` fills an array of shape ``shape``."""

    def __init__(self, axes):
        self.axes = tuple(axes)
        names = [a.name for a in self.axes]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate observables {names}")

    @classmethod
    def from_card(cls, table, path, resolve_file=None) -> "Observables":
        """``resolve_file(name, key) -> Path`` finds files the axes name (``centres``)."""
        if not isinstance(table, dict) or not table:
            raise CardError(path, "observables", "must list at least one axis",
                            "e.g. [observables] pe = { range = [0.0, 60.0], width = 2.0 }")
        return cls(axis_from_card(k, v, path, resolve_file) for k, v in table.items())

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.nbins for a in self.axes)

    @property
    def edges(self) -> dict[str, np.ndarray]:
        return {a.name: a.edges for a in self.axes}

    def __getitem__(self, name: str) -> Axis:
        for a in self.axes:
            if a.name == name:
                return a
        raise KeyError(name)

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def subset(self, names) -> "Observables":
        return Observables(a for a in self.axes if a.name in names)

    def histogram(self, batch) -> np.ndarray:
        """Sum of row weights in each bin (rows outside any axis dropped)."""
        flat = np.zeros(len(batch), dtype=np.int64)
        ok = np.ones(len(batch), dtype=bool)
        for a in self.axes:
            i = a.index(np.asarray(batch[a.name], dtype=float))
            ok &= i >= 0
            flat = flat * a.nbins + np.maximum(i, 0)
        size = int(np.prod(self.shape))
        h = np.bincount(flat[ok], weights=np.asarray(batch.weight)[ok], minlength=size)
        return h.reshape(self.shape)

    def __repr__(self) -> str:
        return "Observables(" + ", ".join(f"{a.name}[{a.nbins}]" for a in self.axes) + ")"


__all__ = ["Axis", "Observables", "axis_from_card", "AXIS"]
