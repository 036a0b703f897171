"""Axis stages: a further observable drawn from tables conditional on an existing one.

Registered type: axis / conditional_table, e.g. a pulse-shape variable as a function of energy: a table
P(y bin | x bin) (rows x bins, columns y bins; each row a probability distribution).  ``sample`` draws the
y bin of each row's x bin and a value uniform within it; ``expect`` expands each row onto the y bin
(sub)centres with the row's probabilities.  Weights are unchanged (rows sum to 1), except outside the
table's x range where ``out_of_range`` decides (clamp = use the nearest row, zero = weight 0, error).
"""
from __future__ import annotations

import numpy as np

from ..errors import NudmsimError
from ..schema import Field, Section
from .stage import Batch, register_stage
from .stagekit import load_matrix, on_field, out_of_range_field, to_field
from .stages_resolution import MatrixStage


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


__all__ = ["ConditionalTableAxis"]
