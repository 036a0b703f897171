"""Observables of an experiment card: the analysis axes, their binning, and histograms of weighted rows.

Card syntax (one entry per axis, in the order of the histogram's dimensions; the key is the column name,
which carries its unit)::

    [observables]
    pe = { range = [0.0, 60.0], width = 2.0 }          # 30 bins of 2 PE
    t_us = { edges = [0.0, 0.5, 1.0, 2.0, 6.0] }        # explicit edges (strictly increasing)
    E_R_keV = { range = [1.0, 100.0], bins = 20, log = true }

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


def axis_from_card(name: str, table, path) -> Axis:
    key = f"observables.{name}"
    v = validate(table, AXIS, path=path, prefix=key)
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
    def from_card(cls, table, path) -> "Observables":
        if not isinstance(table, dict) or not table:
            raise CardError(path, "observables", "must list at least one axis",
                            "e.g. [observables] pe = { range = [0.0, 60.0], width = 2.0 }")
        return cls(axis_from_card(k, v, path) for k, v in table.items())

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
