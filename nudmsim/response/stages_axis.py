"""Binned observables drawn from tables conditional on an existing column.

Registered types:

* axis / conditional_table, e.g. a pulse-shape variable as a function of energy: a table P(y bin | x bin)
  (rows x bins, columns y bins; each row a probability distribution).  ``sample`` draws the y bin of each
  row's x bin and a value uniform within it; ``expect`` expands each row onto the y bin (sub)centres with the
  row's probabilities.  Weights are unchanged (rows sum to 1), except outside the table's x range where
  ``out_of_range`` decides (clamp = use the nearest row, zero = weight 0, error).
* resolution / bin_efficiencies: the probability eps_j(x) that a true value x lands in reconstructed bin j,
  tabulated at points x (one column per bin, linearly interpolated; DDCalc's encoding of a search's
  analysis bins).  Sum_j eps_j(x) <= 1 is the detection efficiency.
"""
from __future__ import annotations

import numpy as np

from ..errors import NudmsimError
from ..schema import Field, Section
from .rngkernels import new_key
from .stage import Batch, register_stage
from .stagekit import (
    StageBase,
    check_edges,
    check_xy,
    load_matrix,
    on_field,
    out_of_range_field,
    pick_column,
    read_columns,
    to_field,
)
from .stages_resolution import MatrixStage, _draw_rows


@register_stage
class ConditionalTableAxis(MatrixStage):
    family = "axis"
    model = "conditional_table"
    default_label = "axis"
    doc = ("A new observable y (column `to`) drawn from P(y bin | x bin) of the column `on`: a file (rows x bins: "
           "columns `<x>_lo, <x>_hi`, then one column per y bin named `<name>_<lo>_<hi>`) or inline (`x_edges`, "
           "`y_edges`, `matrix`).  Each row must sum to 1 (within 1e-6) unless `normalise = true`; empty rows are "
           "refused.  Sample: a y bin drawn from the row, the value uniform in it; expectation: the y bin "
           "(sub)centres with the row's probabilities.  Outside the x range: `out_of_range` (clamp = nearest row, "
           "zero = weight 0, error).")
    schema = Section("axis/conditional_table", fields=(
        on_field(None, "conditioning column x (e.g. pe)"),
        to_field(None, "new column y (e.g. psd)"),
        Field("file", str, default=None, doc="CSV table (rows x bins, columns y bins)"),
        Field("x_edges", list, default=None, doc="inline x bin edges"),
        Field("y_edges", list, default=None, doc="inline y bin edges"),
        Field("matrix", list, default=None, doc="inline P(y bin | x bin), one row (list) per x bin"),
        Field("normalise", bool, default=False, doc="divide each row by its sum"),
        out_of_range_field("x outside the table: clamp = nearest row, zero = weight 0, error = refuse"),
        Field("subdivide", int, default=1, lo=1, doc="sub-cells per y bin in the expectation"),
    ), one_of=(("file", "matrix"),))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        xe, ye, P = load_matrix(ctx, values, "x_edges", "y_edges", "matrix", max_row_sum=None,
                                x_what="x", y_what="y")
        s = P.sum(axis=1)
        where = "file" if values["file"] else "matrix"
        if np.any(s <= 0):
            i = int(np.flatnonzero(s <= 0)[0])
            raise ctx.error(where, f"row {i} (x bin [{xe[i]:g}, {xe[i + 1]:g})) is empty",
                            "give every x bin a distribution, or shrink the table and use out_of_range")
        if values["normalise"]:
            P = P / s[:, None]
        elif np.any(np.abs(s - 1.0) > 1e-6):
            i = int(np.argmax(np.abs(s - 1.0)))
            raise ctx.error(where, f"row {i} sums to {s[i]:.6g}, not 1",
                            "rows are P(y bin | x bin); set normalise = true to divide by the sums")
        self.rule = values["out_of_range"]
        self.setup_matrix(xe, ye, P, values["subdivide"])

    def rows(self, x: np.ndarray) -> np.ndarray:
        r = self.x_bin(x)
        if self.rule == "clamp":
            return np.where(r >= 0, r, np.where(x < self.x_edges[0], 0, len(self.x_edges) - 2))
        if self.rule == "error" and np.any(r < 0):
            bad = x[r < 0][0]
            raise NudmsimError(f"{self.ctx.path}: key '{self.ctx.key}.out_of_range': an event has {self.on} = "
                               f"{bad:g}, outside the table [{self.x_edges[0]:g}, {self.x_edges[-1]:g}) and "
                               "out_of_range = \"error\" (extend the table or choose clamp/zero)")
        return r

    def sample(self, batch, rng, values=None):
        r = self.rows(self.column(batch, self.on))
        w = batch.weight if self.rule != "zero" else np.where(r >= 0, batch.weight, 0.0)
        return Batch({**batch.columns, self.to: self.draw(r, rng)}, w)

    def expect(self, batch, values=None):
        return self.expand_rows(batch, self.rows(self.column(batch, self.on)))


@register_stage
class BinEfficiencies(StageBase):
    family = "resolution"
    model = "bin_efficiencies"
    default_label = "res"
    tabulate = False    # a table lookup per row already: the engine's lattice would only re-interpolate it
    doc = ("The probability ε_j(x) that a value x of the column `on` is detected in reconstructed bin j, tabulated "
           "against x: a file with the x column (`x_column`, default the first) and one column per bin "
           "(`columns`), linearly interpolated in x (DDCalc's encoding of a search's analysis bins, e.g. "
           "DarkSide-50 S2-only, arXiv:1907.04346 app. B).  The bins are `edges` (default: the bin edges of the "
           "observable `to`), one column per bin.  Σ_j ε_j(x) ≤ 1 (checked on load) is the detection efficiency: "
           "sample: weight × Σ_j ε_j, a bin drawn from ε_j / Σ ε, the value uniform in it; expectation: each row "
           "goes to the bin centres with weights × ε_j.  Outside the table: `out_of_range` (clamp = end values, "
           "zero = not detected, error).")
    schema = Section("resolution/bin_efficiencies", fields=(
        on_field(None, "true-value column x (e.g. E_R_keV)"),
        to_field(None, "reconstructed-bin column (e.g. an observable with one bin per analysis bin)"),
        Field("file", str, doc="CSV table: x and one ε column per reconstructed bin (data/ layout)"),
        Field("x_column", str, default=None, doc="column of x (default: the first)"),
        Field("columns", list, item=str, doc="the ε column of each reconstructed bin, in bin order"),
        Field("edges", list, default=None, doc="reconstructed bin edges (default: the observable `to`'s)"),
        out_of_range_field(),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        path, header, arr = read_columns(ctx, "file", values["file"])
        x = pick_column(ctx, "file", path, header, arr, values["x_column"] or header[0], "x_column")
        cols = values["columns"]
        if not cols:
            raise ctx.error("columns", "is empty", "name one ε column per reconstructed bin")
        eps = []
        for name in cols:
            y = pick_column(ctx, "file", path, header, arr, name, "columns")
            self.x, yy = check_xy(ctx, "file", x, y, lo=0.0, hi=1.0, what=f"efficiency '{name}'")
            eps.append(yy)
        self.eps = np.stack(eps, axis=1)               # (points, bins)
        tot = self.eps.sum(axis=1)
        if np.any(tot > 1.0 + 1e-6):
            i = int(np.argmax(tot))
            raise ctx.error("file", f"the bin efficiencies sum to {tot[i]:.6g} > 1 at {self.x[i]:g}",
                            "ε_j are probabilities of disjoint bins: their sum is an efficiency <= 1")
        if values["edges"] is not None:
            self.edges = check_edges(ctx, "edges", values["edges"])
        elif ctx.observables and self.to in ctx.observables:
            self.edges = check_edges(ctx, "to", ctx.observables[self.to])
        else:
            raise ctx.error("edges", f"is missing and '{self.to}' is not an observable",
                            "give edges = [...] (one bin per column) or make `to` an observable")
        if len(self.edges) - 1 != len(cols):
            raise ctx.error("columns", f"names {len(cols)} bins but the edges of '{self.to}' give "
                            f"{len(self.edges) - 1}", "one ε column per reconstructed bin")
        self.centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        self.rule = values["out_of_range"]
        self.breaks = self.x        # kinks of the linear interpolation (and jumps to 0): truth quadrature breaks

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """ε_j at each x, shape (rows, bins)."""
        xs = self.x
        if self.rule == "error":
            out = (x < xs[0]) | (x > xs[-1])
            if np.any(out):
                raise NudmsimError(f"{self.ctx.path}: key '{self.ctx.key}.out_of_range': an event has {self.on} = "
                                   f"{x[out][0]:g}, outside the table [{xs[0]:g}, {xs[-1]:g}] and out_of_range = "
                                   "\"error\" (extend the table or choose clamp/zero)")
        kw = {"left": 0.0, "right": 0.0} if self.rule == "zero" else {}
        return np.stack([np.interp(x, xs, self.eps[:, j], **kw) for j in range(self.eps.shape[1])], axis=1)

    def sample(self, batch, rng, values=None):
        P = self.probabilities(self.column(batch, self.on))
        tot = P.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.cumsum(np.where(tot[:, None] > 0, P / tot[:, None], 0.0), axis=1)
        cdf[tot > 0, -1] = 1.0
        rows = np.where(tot > 0, np.arange(len(tot)), -1).astype(np.int64)
        out = np.empty(len(rows))
        sentinel = float(self.edges[0] - 0.5 * (self.edges[1] - self.edges[0]))
        _draw_rows(len(rows), new_key(rng), rows, np.ascontiguousarray(cdf), self.edges, sentinel, out)
        return Batch({**batch.columns, self.to: out}, batch.weight * tot)

    def expect(self, batch, values=None):
        return batch.expand(self.centres, self.probabilities(self.column(batch, self.on)), self.to)


__all__ = ["ConditionalTableAxis", "BinEfficiencies"]
