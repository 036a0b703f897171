"""Shared plot style of nudmsim figures: rcParams, colours per experiment, mathtext labels, version stamp.

Every figure uses :func:`new_figure` (style applied, Agg backend), :func:`label` for axis labels
("$\\sigma_{NC}$ [cm$^2$]"), :data:`COLORS`/:func:`color` so one experiment has one colour in every figure,
and :func:`stamp` for the "nudmsim VERSION, figure NAME" line the writer adds.  Computed curves are solid
lines; published curves drawn for context are grey/dashed and their legend entry ends in "(published)".
"""
from __future__ import annotations

from .. import __version__

RC = {
    "font.size": 10,
    "axes.labelsize": 11,
    "axes.titlesize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.minor.visible": True,
    "ytick.minor.visible": True,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "mathtext.default": "regular",
    "savefig.dpi": 150,
    "figure.dpi": 100,
    "lines.linewidth": 1.8,
}

#: one colour per experiment / bound, shared by all figures
COLORS = {
    "coherent": "#1f77b4",
    "coherent2021": "#17becf",
    "xenon1t": "#d62728",
    "borexino": "#2ca02c",
    "cresst": "#9467bd",
    "darkside": "#8c564b",
    "kinetic": "#ff7f0e",
    "relic": "#000000",
    "neff": "#7f7f7f",
    "superk": "#e377c2",
    "earth": "#1f77b4",
    "sun": "#ff7f0e",
    "e949": "#1f77b4",
    "na62": "#17becf",
    "atlas": "#8c564b",
    "context": "#999999",
    "perturbative": "#7f7f7f",
}

#: units written the way the figures print them (mathtext)
UNITS = {"cm^2": "cm$^2$", "MeV": "MeV", "GeV": "GeV", "keV": "keV", "us": r"$\mu$s",
         "cm^-2 s^-1": r"cm$^{-2}$ s$^{-1}$", "events/keV": "events / keV", "cm^3/s": r"cm$^3$/s",
         "": ""}


def color(key: str) -> str:
    return COLORS.get(key, "#333333")


def unit_tex(unit: str) -> str:
    return UNITS.get(unit, unit)


def label(symbol_tex: str, unit: str = "") -> str:
    """Axis label: mathtext symbol plus the unit in brackets (none for dimensionless quantities)."""
    u = unit_tex(unit)
    return f"{symbol_tex} [{u}]" if u else symbol_tex


def apply() -> None:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(RC)


def new_figure(ncols: int = 1, nrows: int = 1, width: float | None = None, height: float = 4.2, **kw):
    """(fig, axes) with the nudmsim style; axes squeezed as in :func:`matplotlib.pyplot.subplots`."""
    apply()
    import matplotlib.pyplot as plt

    width = width or (5.6 * ncols)
    return plt.subplots(nrows, ncols, figsize=(width, height * nrows), **kw)


def stamp(fig, name: str) -> None:
    """Version stamp in the lower right corner of the figure."""
    fig.text(0.995, 0.003, f"nudmsim {__version__} - figure {name}", ha="right", va="bottom", fontsize=6,
             color="#777777")


def context_kw(key: str = "context") -> dict:
    """Line style of a published curve drawn for context (not computed by nudmsim)."""
    return {"color": COLORS.get(key, COLORS["context"]), "ls": "--", "lw": 1.3, "alpha": 0.9}


def log_axes(ax, x: bool = True, y: bool = True) -> None:
    if x:
        ax.set_xscale("log")
    if y:
        ax.set_yscale("log")


def bottom_legend(fig, axes, ncol: int = 4, height: float = 0.13) -> None:
    """One legend for all panels, below them (curves of every panel, each label once)."""
    axes = list(axes) if hasattr(axes, "__iter__") else [axes]
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.tight_layout(rect=(0, height, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, bbox_to_anchor=(0.5, 0.025))
