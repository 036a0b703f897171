"""Limit and sensitivity curves: the container every analysis returns, and its CSV/PNG writers."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import NudmsimError
from ..io import save_figure, write_csv


def _axis(label: str, unit: str) -> str:
    """Axis text 'label [unit]'; no empty brackets for dimensionless quantities."""
    return f"{label} [{unit}]" if unit else label


BAND_KEYS = ("-2", "-1", "+1", "+2")


def expected_from_points(results) -> tuple[np.ndarray, dict]:
    """Stack per-mass (median, {band: value}) results of a scan into (median array, {band: array})."""
    median = np.array([r[0] for r in results], dtype=float)
    bands = {k: np.array([r[1].get(k, np.nan) for r in results], dtype=float) for k in BAND_KEYS}
    return median, bands


@dataclass
class LimitRequest:
    """What ``nudmsim limit`` asks of an analysis.

    masses: scan points in MeV; ratio: m_phi/m_X (or analysis-specific second parameter);
    projected: Asimov sensitivity instead of the observed limit; params: --set overrides (strings);
    scheduler: Dask scheduler address (None = local cluster, "sync" = in-process)."""

    card: object
    masses: np.ndarray | None = None
    ratio: float | None = None
    projected: bool = False
    params: dict = field(default_factory=dict)
    scheduler: str | None = None
    progress: bool = True
    options: dict = field(default_factory=dict)

    def refuse_unused(self, analysis: str, options=(), ratio: bool = False, projected: bool = False) -> None:
        """One-line error for the parts of the request that ``analysis`` would otherwise silently ignore."""
        bad = sorted(set(self.options) - set(options))
        if bad:
            raise NudmsimError(f"unknown --option {bad[0]} for {analysis} "
                               f"(options: {', '.join(options) if options else 'none'})")
        if self.ratio is not None and not ratio:
            raise NudmsimError(f"{analysis} has no second curve parameter: drop --ratio")
        if self.projected and not projected:
            raise NudmsimError(f"{analysis} has no projection: drop --projected")


@dataclass
class LimitCurve:
    """A 90% CL curve y(x).  ``observed`` is NaN where only a projection exists; ``expected`` is the
    Asimov median; ``bands`` maps "-2","-1","+1","+2" to the sigma-band edges."""

    x: np.ndarray
    observed: np.ndarray
    x_label: str
    y_label: str
    x_unit: str
    y_unit: str
    title: str
    expected: np.ndarray | None = None
    bands: dict = field(default_factory=dict)
    cl: float = 0.90
    provenance: str = ""
    reference: tuple | None = None  # (x, y, label) to overlay
    relation: str = "<"  # how the CLI prints y: "<" for an upper limit, "=" for a prediction (thermal target)

    def __repr__(self) -> str:
        y = self.observed if np.any(np.isfinite(self.observed)) else self.expected
        what = "observed" if y is self.observed else "expected"
        ok = np.isfinite(y) if y is not None else np.zeros(len(self.x), bool)
        span = (f"{self.x[0]:.4g}-{self.x[-1]:.4g} {self.x_unit}" if len(self.x) else "no points")
        best = (f", best {what} {self.y_label} {self.relation} {np.nanmin(y[ok]):.3g} {self.y_unit}"
                if ok.any() else ", no finite value")
        return f"LimitCurve({self.title!r}: {len(self.x)} points, {self.x_label} {span}{best})"

    def columns(self) -> dict[str, np.ndarray]:
        cols = {"x": self.x, "observed": self.observed}
        if self.expected is not None:
            cols["expected"] = self.expected
        for k in ("-2", "-1", "+1", "+2"):
            if k in self.bands:
                cols[f"expected{k}sigma"] = self.bands[k]
        return cols

    def write_csv(self, path) -> Path:
        header = (f"{self.title}\n{int(self.cl * 100)}% CL; x = {_axis(self.x_label, self.x_unit)}, "
                  f"y = {_axis(self.y_label, self.y_unit)}\n{self.provenance}")
        return write_csv(path, header, self.columns())

    def write_hepdata(self, folder, name: str | None = None) -> Path:
        """A validated HEPData submission folder with this curve (see :mod:`nudmsim.hepdata`)."""
        from ..hepdata import write_limit_curve

        return write_limit_curve(self, folder, name=name)

    def plot(self, path=None, ax=None):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(6, 4.5))
        if "-2" in self.bands and "+2" in self.bands:
            ax.fill_between(self.x, self.bands["-2"], self.bands["+2"], color="#ffdf00", label="expected ±2σ")
        if "-1" in self.bands and "+1" in self.bands:
            ax.fill_between(self.x, self.bands["-1"], self.bands["+1"], color="#00c000", label="expected ±1σ")
        if self.expected is not None:
            ax.plot(self.x, self.expected, "k--", label="expected (Asimov)")
        if np.any(np.isfinite(self.observed)):
            ax.plot(self.x, self.observed, "k-", lw=2, label="observed")
        if self.reference is not None:
            rx, ry, rl = self.reference
            ax.plot(rx, ry, "r:", lw=2, label=rl)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(_axis(self.x_label, self.x_unit))
        ax.set_ylabel(_axis(self.y_label, self.y_unit))
        ax.set_title(self.title, fontsize=10)
        if own:  # outside the axes: inside, "best" ignores filled bands and covered them (atlas-w)
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        else:
            ax.legend(fontsize=8)
        if own and path is not None:
            save_figure(ax.figure, path)
            plt.close(ax.figure)
        return ax
