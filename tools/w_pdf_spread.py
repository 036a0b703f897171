#!/usr/bin/env python
"""PDF uncertainty of the 7 TeV W lepton-|eta| predictions: ``fluxes/pp_w_pdf_spread_7tev.csv`` (run once, offline).

Method: the same NLO calculation (``nudmsim.sources.pp_nlo``, q_T slicing + W + parton real emission) is run with
the central members of independent PDF determinations shipped in Pythia 8.318's source -- NNPDF3.1 NLO (the
generator's set), NNPDF3.1 NNLO, NNPDF2.3 NLO, NNPDF2.3 NNLO and PDF4LHC21 (a combination of CT18, MSHT20 and
NNPDF3.1) -- and the generator (same angular coefficients, p_T model, K-factor and random numbers; 4e6 events)
predicts, per ATLAS |eta| bin, the lepton charge asymmetry, the normalised W+ and W- shapes and the fiducial cross
sections.  The quoted uncertainty is half the spread (max - min) over the sets, bin by bin: an envelope of central
values, in the spirit of the 2010 PDF4LHC envelope prescription.  The replica (within-set) uncertainties are not
available offline, so this is an estimate of the PDF-model spread, stated as such in docs/w_boson.md.  The
alternates use a coarser mass grid (7.5 GeV steps; the luminosities vary slowly with M).

    python tools/w_pdf_spread.py /tmp/p8/pythia8mc-*/pythia*/share/Pythia8/pdfdata [--events 4000000]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from make_pp_luminosity import nlo_rows  # noqa: E402
from nudmsim import constants as c  # noqa: E402
from nudmsim.generators import w_sample as ws  # noqa: E402
from nudmsim.sources.pp import load_pp_source  # noqa: E402
from nudmsim.validation import w_lepton_eta as v  # noqa: E402
from pdf_grid import Grid  # noqa: E402

SETS = ["NNPDF31_nlo_as_0118_luxqed", "NNPDF31_nnlo_as_0118_luxqed", "NNPDF23_nlo_as_0119_qed",
        "NNPDF23_nnlo_as_0119_qed", "PDF4LHC21_mc"]
COARSE = np.arange(40.0, 130.0 + 1e-9, 7.5)


def source_with(rows, base):
    """The base PPSource with luminosities from NLO rows (M, y, L+, L-, Lz)."""
    arr = np.array(rows)
    masses = np.unique(arr[:, 0])
    ys = np.unique(arr[:, 1])
    shape = (len(masses), len(ys))
    return replace(base, masses=masses * c.GeV, ys=ys, lumi={1: arr[:, 2].reshape(shape),
                                                             -1: arr[:, 3].reshape(shape)}, _cache={})


def predictions(src, n, seed=4242):
    pred = v.eta_prediction(sample=ws.generate_sample(src, n, np.random.default_rng(seed), 0), source=src)
    width = np.diff(pred["edges"])
    out = {"asym": v.asymmetry(pred)[0]}
    for k in ("plus", "minus"):
        h = pred[k][0]
        out["shape_" + k] = h / np.sum(h * width)
        out["sigma_" + k] = pred["sigma_" + k]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pdfdir")
    ap.add_argument("--events", type=int, default=4_000_000)
    ap.add_argument("--out", default=str(ROOT / "fluxes" / "pp_w_pdf_spread_7tev.csv"))
    args = ap.parse_args(argv)
    base = load_pp_source("pp_7tev")
    preds = {}
    for name in SETS:
        grid = Grid(Path(args.pdfdir) / f"{name}_0000.dat")
        if grid.alphas_mz is None:
            raise SystemExit(f"unknown alpha_s for {name}")
        rows = nlo_rows(grid, 7000.0, masses=COARSE, with_z=False, progress=False)
        preds[name] = predictions(source_with(rows, base), args.events)
        p = preds[name]
        print(f"{name}: sigma_fid W+ {p['sigma_plus']:.1f} pb, W- {p['sigma_minus']:.1f} pb; "
              f"A_l = {np.round(p['asym'], 4)}", flush=True)
    t = v.atlas_eta_table()
    edges = t["edges"]

    def half(key):
        vals = np.array([p[key] for p in preds.values()])
        return 0.5 * (vals.max(axis=0) - vals.min(axis=0)), vals

    d_asym, _ = half("asym")
    rel = {}
    for k in ("plus", "minus"):
        dsh, vals = half("shape_" + k)
        rel["shape_" + k] = dsh / np.mean(vals, axis=0)
        ds, vals = half("sigma_" + k)
        rel["sigma_" + k] = float(ds / np.mean(vals))
    header = (
        "# PDF uncertainty of the 7 TeV W -> l nu lepton |eta| predictions (ATLAS 2011 fiducial region and bins),\n"
        "# made by tools/w_pdf_spread.py: half the spread (max - min) of the NLO predictions with the central members\n"
        f"# of {', '.join(SETS)}\n"
        "# (Pythia 8.318 pdfdata; same NLO calculation, angular coefficients, p_T model and random numbers,\n"
        f"# {args.events} events each). Within-set replica uncertainties are not included (not shipped).\n"
        "# Columns: abs_eta_low, abs_eta_high, d_asym (absolute, on A_l), d_shape_plus, d_shape_minus (relative, on the\n"
        "#   normalised d sigma/d|eta|), d_sigma_plus, d_sigma_minus (relative, on the fiducial cross sections; repeated).\n")
    with open(args.out, "w") as fh:
        fh.write(header)
        fh.write("abs_eta_low,abs_eta_high,d_asym,d_shape_plus,d_shape_minus,d_sigma_plus,d_sigma_minus\n")
        for i in range(len(edges) - 1):
            fh.write(f"{edges[i]:.2f},{edges[i + 1]:.2f},{d_asym[i]:.5f},{rel['shape_plus'][i]:.5f},"
                     f"{rel['shape_minus'][i]:.5f},{rel['sigma_plus']:.5f},{rel['sigma_minus']:.5f}\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
