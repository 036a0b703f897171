"""Shared plotting helpers of the seed-figure modules: one look (mathtext labels with units, log axes where the
physics spans decades, legends that say which curves nudmsim computed) and Curve bookkeeping."""
from __future__ import annotations

import numpy as np

from . import Curve


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw(ax, curve: Curve, **kw):
    """Plot a Curve; the legend label says 'nudmsim' or the published source."""
    tag = "" if not curve.label else (curve.label if curve.computed else f"{curve.label} (published)")
    if curve.kind in ("band_lo",):
        return None
    return ax.plot(curve.x, curve.y, label=tag or None, **kw)


def finish(ax, legend_title: str | None = "solid/labelled: computed by nudmsim", fontsize=7, loc="best"):
    from matplotlib.ticker import NullFormatter

    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale == "log":
            axis.set_minor_formatter(NullFormatter())
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=fontsize, loc=loc, title=legend_title, title_fontsize=fontsize, framealpha=0.85)
    ax.grid(alpha=0.25, which="both", lw=0.5)


def limit_curves(flavour: str, names, panel: str, x_name="M_N", y_name="|U|^2", x_unit="GeV",
                 m_range=(0.0, np.inf)) -> list[Curve]:
    """Published HNL limits of data/hnl_limits as context Curves (x in GeV)."""
    from .. import constants as c
    from ..models import hnl_dm

    out = []
    for name, label in names:
        m, u = hnl_dm.limit_curve(flavour, name)
        sel = (m >= m_range[0]) & (m <= m_range[1])
        if not sel.any():
            continue
        out.append(Curve(label, m[sel] / c.GeV, u[sel], x_name, y_name, x_unit, "", computed=False,
                         source=f"data/hnl_limits/curves ({name})", panel=panel))
    return out
