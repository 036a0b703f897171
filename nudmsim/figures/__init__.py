"""Figures of the seed papers, recomputed from the library (``nudmsim figure NAME``).

Each figure is a function registered with :func:`figure`; it computes its curves with the library, draws them
and returns a :class:`FigureResult`.  Curves that nudmsim computed are marked ``computed=True``; published
curves drawn for context (from ``data/`` with provenance) are ``computed=False`` and labelled as such.
The command writes PDF + PNG + one CSV of every curve (see :mod:`nudmsim.figures.output`).

Registering a figure (a module listed in ``FIGURE_MODULES``)::

    @figure("seed003-fig4", seed="003", number="4", title="HNL lifetimes, decay lengths and branching ratios")
    def build(opts: FigureOptions) -> FigureResult:
        ...
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import NudmsimError
from ..schema import suggest


@dataclass(frozen=True)
class Curve:
    """One curve of a figure: ``x``, ``y`` arrays in ``x_unit``/``y_unit``; ``computed`` = by nudmsim
    (False = a published curve drawn for context, ``source`` says which); ``panel`` names the axes."""

    label: str
    x: np.ndarray
    y: np.ndarray
    x_name: str
    y_name: str
    x_unit: str = ""
    y_unit: str = ""
    computed: bool = True
    source: str = "nudmsim"
    panel: str = ""
    kind: str = "line"   # line | band_lo | band_hi | point | contour

    def __repr__(self) -> str:
        tag = "nudmsim" if self.computed else f"context: {self.source}"
        return f"Curve({self.label!r}, {len(self.x)} points, {tag})"


@dataclass
class FigureOptions:
    """What a figure build may be told: output folder, quick mode (fewer points), the Dask client."""

    outdir: object = "."
    quick: bool = False
    client: object = None
    progress: object = None


@dataclass
class FigureResult:
    name: str
    curves: list[Curve]
    figure: object = None            # the matplotlib Figure (closed by the writer)
    notes: list[str] = field(default_factory=list)
    files: list = field(default_factory=list)

    def __repr__(self) -> str:
        n_c = sum(c.computed for c in self.curves)
        return (f"FigureResult({self.name!r}: {n_c} computed + {len(self.curves) - n_c} context curves, "
                f"files={[str(f) for f in self.files]})")


@dataclass(frozen=True)
class FigureEntry:
    name: str
    seed: str
    number: str
    title: str
    build: Callable[[FigureOptions], FigureResult]


FIGURES: dict[str, FigureEntry] = {}

#: modules that register figures (imported on first lookup)
FIGURE_MODULES: list[str] = [
    "nudmsim.figures.seed000",
    "nudmsim.figures.seed001",
    "nudmsim.figures.seed002",
    "nudmsim.figures.seed003",
    "nudmsim.figures.seed004",
    "nudmsim.figures.seed004_fig4",
]


def figure(name: str, *, seed: str, number: str, title: str):
    """Decorator registering a figure build function under ``name`` (e.g. ``seed004-fig2``)."""

    def deco(fn):
        if name in FIGURES and FIGURES[name].build is not fn:
            raise ValueError(f"figure {name} registered twice")
        FIGURES[name] = FigureEntry(name, seed, number, title, fn)
        return fn

    return deco


def load_all() -> dict[str, FigureEntry]:
    for mod in FIGURE_MODULES:
        importlib.import_module(mod)
    return FIGURES


def get(name: str) -> FigureEntry:
    load_all()
    if name not in FIGURES:
        hint = suggest(name, FIGURES)
        raise NudmsimError(f"unknown figure '{name}' ({hint + ' ' if hint else ''}see nudmsim figure --list)")
    return FIGURES[name]


__all__ = ["Curve", "FigureOptions", "FigureResult", "FigureEntry", "FIGURES", "FIGURE_MODULES", "figure",
           "load_all", "get"]
