#!/usr/bin/env python
"""Produce the committed pp -> W (Z) production tables in ``fluxes/`` from PDF grids (run once, offline).

The nudmsim runtime reads only these derived tables; no PDF is read at run time.  The grids are the central
members shipped in Pythia 8.318's source (see ``tools/pdf_grid.py`` for the citations)::

    pip download --no-deps --no-binary :all: pythia8mc -d /tmp/p8
    tar xzf /tmp/p8/pythia8mc-*.tar.gz --wildcards '*pdfdata/NNPDF*' '*pdfdata/PDF4LHC*'
    python tools/make_pp_luminosity.py /tmp/p8/pythia8mc-*/pythia*/share/Pythia8/pdfdata [--only lo|nlo|angular]

Tables (x1,2 = M/sqrt(s) e^{+-y}; "q1" = the quark side is beam 1 (+z); the quark-in-beam-2 value is the
same column at -y; see nudmsim/sources/pp.py and pp_nlo.py for the physics):

* ``pp_w_lumi_<E>tev.csv`` (LO, NNPDF2.3 LO as_0130, Pythia's default PDF): L_q1 = sum |V|^2 f_q(x1) f_qbar'(x2),
  used for the LO cross-section check against Pythia.
* ``pp_w_lumi_nlo_<E>tev.csv`` (NLO, NNPDF3.1 NLO as_0118): the *effective* luminosities
  (d sigma_NLO/dM^2 dy)/(sigma_hat/S) with the quark side in beam 1, from q_T slicing at q_c = 1 GeV plus the
  exact W + parton real emission (``pp_nlo.nlo_rapidity``), for W+, W- and Z (couplings v_q^2 + a_q^2).
* ``pp_w_angular_<E>tev.csv``: A_0..A_4 of the lepton in the quark-oriented Collins-Soper frame as functions of
  (p_T^W, y_q = rapidity along the quark direction), and the rapidity dependence h(p_T, |y|) of the W p_T
  spectrum, from the O(alpha_s) W + parton cross sections at M = M_W (``pp_nlo.real_density``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from nudmsim import constants as c  # noqa: E402
from nudmsim.sources import pp_nlo as nl  # noqa: E402
from pdf_grid import Grid  # noqa: E402

LO_SET = "NNPDF23_lo_as_0130_qed"
NLO_SET = "NNPDF31_nlo_as_0118_luxqed"
MASSES = np.arange(40.0, 130.0 + 1e-9, 2.5)              # GeV; covers M_W +- 15 Gamma_W and the Z window
PT_GRID = np.array([0.5, 1, 2, 3, 4, 5, 6, 8, 10, 12.5, 15, 20, 25, 30, 40, 50, 60, 80, 100, 130, 160, 200,
                    250, 300])
YQ_STEP = 0.25
QC = 1.0                                                  # q_T slicing cut [GeV]
CKM_TXT = f"Vud={c.V_UD} Vus={c.V_US} Vub={c.V_UB} Vcd={c.V_CD} Vcs={c.V_CS} Vcb={c.V_CB}"


def y_grid(sqrts, mmin=MASSES[0]):
    ymax = np.log(sqrts / mmin)
    return np.round(np.arange(-np.floor(ymax * 10) / 10, np.floor(ymax * 10) / 10 + 1e-9, 0.1), 3)


def write_csv(path, header, columns, rows, fmt):
    with open(path, "w") as fh:
        fh.write(header)
        fh.write(",".join(columns) + "\n")
        for r in rows:
            fh.write(",".join(f % v for f, v in zip(fmt, r)) + "\n")
    print(f"wrote {path}: {len(rows)} rows")


def lo_table(grid, sqrts, out):
    ys = y_grid(sqrts)
    rows = []
    for m in MASSES:
        lp = nl.lo_rapidity(grid, nl.w_pairs(1), m, ys, sqrts)
        lm = nl.lo_rapidity(grid, nl.w_pairs(-1), m, ys, sqrts)
        rows += [(m, y, a, b) for y, a, b in zip(ys, lp, lm)]
    header = (
        f"# qq'-bar -> W+- parton luminosities at sqrt(s) = {sqrts / 1000:g} TeV (pp), LO, mu_F = M.\n"
        f"# Produced by tools/make_pp_luminosity.py from NNPDF2.3 LO alpha_s=0.130 QED central member\n"
        "#   (NNPDF23_lo_as_0130_qed_0000.dat, LHAPDF6 lhagrid1, as shipped in Pythia 8.318's source,\n"
        "#   PyPI sdist pythia8mc-8.318.0: share/Pythia8/pdfdata). NNPDF: Ball et al., NPB 867 (2013) 244,\n"
        "#   arXiv:1207.1303. Interpolation as Pythia LHAGrid1 (cubic Lagrange in ln x, ln Q).\n"
        f"# CKM (PDG 2024): {CKM_TXT}\n"
        "# Columns: M_GeV, y (W rapidity), Lplus_q1 = sum |V|^2 f_q(x1) f_qbar'(x2) for W+ with the quark\n"
        "#   in beam 1 (+z), Lminus_q1 likewise for W-; parton densities (not x f), dimensionless;\n"
        "#   x1,2 = M/sqrt(s) exp(+-y). The quark-in-beam-2 luminosity is the same column at -y.\n")
    write_csv(out / f"pp_w_lumi_{int(sqrts / 1000)}tev.csv", header, ["M_GeV", "y", "Lplus_q1", "Lminus_q1"],
              rows, ["%.2f", "%.2f", "%.6e", "%.6e"])


def nlo_rows(grid, sqrts, masses=MASSES, with_z=True, progress=True):
    """Rows (M, y, L+, L-, Lz) of NLO effective luminosities (negative values at the kinematic edge -> 0)."""
    ys = y_grid(sqrts)
    rows = []
    for m in masses:
        cols = [np.maximum(nl.nlo_rapidity(grid, nl.w_pairs(ch), m, ys, sqrts, QC), 0.0) for ch in (1, -1)]
        cols.append(np.maximum(nl.nlo_rapidity(grid, nl.z_pairs(c.SIN2_THETA_EFF), m, ys, sqrts, QC), 0.0)
                    if with_z else np.zeros_like(ys))
        rows += [(m, y, a, b, z) for y, a, b, z in zip(ys, *cols)]
        if progress:
            print(f"  M = {m:.1f} GeV done", flush=True)
    return rows


def nlo_table(grid, sqrts, out, rows=None):
    rows = nlo_rows(grid, sqrts) if rows is None else rows
    header = (
        f"# pp -> W+- (and Z) at sqrt(s) = {sqrts / 1000:g} TeV: NLO QCD *effective* parton luminosities, mu_F = mu_R = M.\n"
        f"# Produced by tools/make_pp_luminosity.py from {grid.name} (central member, as shipped in Pythia 8.318's\n"
        "#   source, PyPI sdist pythia8mc-8.318.0; NNPDF Collaboration, EPJC 77 (2017) 663, arXiv:1706.00428),\n"
        "#   alpha_s(M_Z) = 0.118 (two-loop running). Interpolation as Pythia LHAGrid1.\n"
        "# Value = (d sigma_NLO / dM^2 dy) / (sigma_hat(M)/S) with the (effective) quark in beam 1 (+z): q_T slicing\n"
        f"#   at q_c = {QC:g} GeV (O(alpha_s) CSS expansion, hard-scheme coefficients) + exact W + parton real emission\n"
        "#   above q_c (nudmsim/sources/pp_nlo.py; the y-integral reproduces the Altarelli-Ellis-Martinelli total).\n"
        "#   Channels assigned to the quark side: q qbar' (quark beam 1), q g (quark beam 1), g qbar' (antiquark beam 2).\n"
        f"# CKM (PDG 2024): {CKM_TXT}; Z couplings v_q^2 + a_q^2 with sin^2 theta_eff = {c.SIN2_THETA_EFF}.\n"
        "# Columns: M_GeV, y, Lplus_q1 (W+), Lminus_q1 (W-), Lz_q1 (Z); dimensionless; LO limit = sum w f(x1) f(x2).\n"
        "#   Negative values at the kinematic edge (x -> 1) are set to 0.\n")
    write_csv(out / f"pp_w_lumi_nlo_{int(sqrts / 1000)}tev.csv", header,
              ["M_GeV", "y", "Lplus_q1", "Lminus_q1", "Lz_q1"], rows, ["%.2f", "%.2f", "%.6e", "%.6e", "%.6e"])


def angular_rows(grid, sqrts, m=None):
    """Rows (charge, pT, yq, A0..A4, h) at M = M_W."""
    m = c.M_W / c.GeV if m is None else m
    ymax = np.floor(np.log(sqrts / m) / YQ_STEP) * YQ_STEP
    yq = np.arange(-ymax, ymax + 1e-9, YQ_STEP)
    rows = []
    for ch in (1, -1):
        pairs = nl.w_pairs(ch)
        yy, pp = np.meshgrid(yq, PT_GRID, indexing="ij")
        dens, a = nl.real_density(grid, pairs, m, yy, pp, sqrts, n_yk=96, angular=True, charge=ch)
        # both quark sides for the p_T-y correlation: density at (y) = q1(y) + q1(-y)
        both = dens + dens[::-1, :]
        nlo = nl.nlo_rapidity(grid, pairs, m, yq, sqrts, QC)
        nlo = nlo + nlo[::-1]
        live = nlo > 1e-4 * nlo.max()                                 # away from the kinematic edge
        ratio = np.where(live[:, None], both / np.where(live, nlo, 1.0)[:, None], 0.0)   # p(pT | y) up to norm
        py = np.where(live, nlo, 0.0) / np.trapezoid(np.where(live, nlo, 0.0), yq)
        mean = np.trapezoid(ratio * py[:, None], yq, axis=0)
        h = np.maximum(np.where(live[:, None], ratio / mean[None, :], 1.0), 0.0)   # no -1e-4 quadrature noise
        for i, y in enumerate(yq):
            for j, pt in enumerate(PT_GRID):
                rows.append((ch, pt, y, *np.nan_to_num(a[:, i, j]), h[i, j]))
    return rows


def angular_table(grid, sqrts, out):
    rows = angular_rows(grid, sqrts)
    header = (
        f"# Lepton angular coefficients and p_T^W-rapidity correlation of pp -> W+- -> l nu at sqrt(s) = {sqrts / 1000:g} TeV.\n"
        f"# Produced by tools/make_pp_luminosity.py from {grid.name} (central; see pp_w_lumi_nlo_*.csv) at M = M_W.\n"
        "# A0..A4: coefficients of 3/(16 pi)[(1+c^2) + A0/2 (1-3c^2) + A1 sin2th cos phi + A2/2 sin^2th cos2phi\n"
        "#   + A3 sin th cos phi + A4 c] of the charged lepton in the Collins-Soper frame with z along the quark\n"
        "#   direction and x along p_T^W; O(alpha_s) W + parton matrix elements (q qbar' -> W g, q g -> W q',\n"
        "#   g qbar' -> W qbar) averaged with their cross sections and the PDFs at fixed (p_T^W, y_q), where y_q is the\n"
        "#   W rapidity along the quark direction (nudmsim/processes/w_angular.py; Mirkes NPB 387 (1992) 3).\n"
        "# h: fixed-order rapidity dependence of the p_T^W spectrum, [d sigma/dpT dy / d sigma_NLO/dy] normalised\n"
        "#   so that its rapidity average is 1 at every p_T (depends on |y|; repeated for both signs of y_q).\n"
        "# Columns: charge (+1 W+, -1 W-), pT_GeV, yq, A0, A1, A2, A3, A4, h.\n")
    write_csv(out / f"pp_w_angular_{int(sqrts / 1000)}tev.csv", header,
              ["charge", "pT_GeV", "yq", "A0", "A1", "A2", "A3", "A4", "h"], rows,
              ["%d", "%.2f", "%.2f"] + ["%.6f"] * 6)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pdfdir", help="directory with the .dat grids (share/Pythia8/pdfdata of the pythia8mc sdist)")
    ap.add_argument("--out", default=str(ROOT / "fluxes"))
    ap.add_argument("--only", choices=("lo", "nlo", "angular"), default=None)
    args = ap.parse_args(argv)
    out = Path(args.out)
    pdfdir = Path(args.pdfdir)
    for sqrts in (7000.0, 13000.0):
        if args.only in (None, "lo"):
            lo_table(Grid(pdfdir / f"{LO_SET}_0000.dat"), sqrts, out)
        if args.only in (None, "nlo"):
            nlo_table(Grid(pdfdir / f"{NLO_SET}_0000.dat"), sqrts, out)
        if args.only in (None, "angular"):
            angular_table(Grid(pdfdir / f"{NLO_SET}_0000.dat"), sqrts, out)


if __name__ == "__main__":
    main()
