#!/usr/bin/env python
"""Produce the committed qq'-bar -> W parton-luminosity tables ``fluxes/pp_w_lumi_<E>tev.csv``.

This script is run once, offline, by a developer; the nudmsim runtime only reads its output.

PDF: NNPDF2.3 LO, alpha_s(M_Z) = 0.130, QED (``NNPDF23_lo_as_0130_qed_0000.dat``, LHAPDF6 "lhagrid1"
format), the default proton PDF of Pythia 8.3 (Monash tune), as shipped in Pythia's source tree
(``share/Pythia8/pdfdata``).  Obtain it offline-compatibly from the PyPI sdist::

    pip download --no-deps --no-binary :all: pythia8mc -d /tmp/p8
    tar xzf /tmp/p8/pythia8mc-*.tar.gz --wildcards '*pdfdata/NNPDF23_lo_as_0130_qed_0000.dat'
    python tools/make_pp_luminosity.py /tmp/p8/pythia8mc-*/pythia*/share/Pythia8/pdfdata/NNPDF23_lo_as_0130_qed_0000.dat

References: NNPDF Collaboration, R.D. Ball et al., Nucl. Phys. B 867 (2013) 244 [arXiv:1207.1303];
Pythia 8.3: C. Bierlich et al., SciPost Phys. Codebases 8 (2022) [arXiv:2203.11601] (GPL-2).
The grid is interpolated exactly as Pythia's ``LHAGrid1::xfxevolve`` does (4-point Lagrange
polynomials in ln x and ln Q of x f(x, Q)).  Only the *derived* luminosity table is committed.

Output columns, for each (M, y) on the grid (mu_F = M, x1,2 = M/sqrt(s) exp(+-y)):

* ``Lplus_q1``  = sum_{q=u,c; q'=d,s,b} |V_qq'|^2 f_q(x1) f_qbar'(x2)   [W+ with the quark from beam 1 (+z)]
* ``Lminus_q1`` = sum |V_qq'|^2 f_q'(x1) f_qbar(x2)                      [W- with the quark from beam 1]

(parton densities f, not x f).  The luminosity with the quark from beam 2 is the same column at -y.
Then d sigma / dM dy = (2M/s) [L_q1(M,y) + L_q1(M,-y)] sigma_hat(M^2) (see nudmsim.sources.pp).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nudmsim import constants as c  # noqa: E402


def read_lhagrid1(path):
    """(x grid, Q grid [GeV], flavour ids, xf array [nflav, nQ, nx]) of a one-subgrid lhagrid1 file."""
    text = Path(path).read_text()
    blocks = [b for b in text.split("---")[1:] if b.strip()]
    if len(blocks) != 1:
        raise SystemExit(f"{path}: expected one Q subgrid, found {len(blocks)}")
    lines = blocks[0].strip().split("\n")
    x = np.array(lines[0].split(), float)
    q = np.array(lines[1].split(), float)
    ids = [int(v) for v in lines[2].split()]
    vals = np.array([ln.split() for ln in lines[3:]], float)  # (nx*nq, nflav), x outer, Q inner
    vals = vals.reshape(len(x), len(q), len(ids))
    return x, q, ids, np.transpose(vals, (2, 1, 0))


def _lagrange_weights(grid_ln, v_ln):
    """Index of the first of 4 points and the 4 Lagrange weights (Pythia LHAGrid1 convention)."""
    n = len(grid_ln)
    i = np.clip(np.searchsorted(grid_ln, v_ln) - 1, 0, n - 2)
    m3 = np.where(i == 0, 0, np.where(i + 1 == n - 1, n - 4, i - 1))
    w = np.ones((4,) + np.shape(v_ln))
    for a in range(4):
        for b in range(4):
            if a != b:
                w[a] *= (v_ln - grid_ln[m3 + b]) / (grid_ln[m3 + a] - grid_ln[m3 + b])
    return m3, w


class Grid:
    def __init__(self, path):
        self.x, self.q, ids, self.xf = read_lhagrid1(path)
        self.index = {pid: k for k, pid in enumerate(ids)}
        self.lnx, self.lnq = np.log(self.x), np.log(self.q)

    def f(self, pid, x, q):
        """Parton density f(x, Q) (not x f) for scalar Q [GeV] and array x inside the grid."""
        x = np.asarray(x, float)
        if np.any((x < self.x[0]) | (x > 1.0)):
            raise ValueError("x outside grid")
        grid = self.xf[self.index[pid]]                     # (nQ, nx)
        m3q, wq = _lagrange_weights(self.lnq, np.log(q))
        at_q = sum(wq[a] * grid[m3q + a] for a in range(4))  # (nx,)
        m3x, wx = _lagrange_weights(self.lnx, np.log(np.minimum(x, self.x[-1])))
        xf = sum(wx[a] * at_q[m3x + a] for a in range(4))
        return np.where(x >= 1.0, 0.0, xf / x)


def luminosities(grid, sqrts_gev, masses, ys):
    ckm = {(2, 1): c.V_UD, (2, 3): c.V_US, (2, 5): c.V_UB,
           (4, 1): c.V_CD, (4, 3): c.V_CS, (4, 5): c.V_CB}
    out_p = np.zeros((len(masses), len(ys)))
    out_m = np.zeros_like(out_p)
    for i, m in enumerate(masses):
        tau = (m / sqrts_gev) ** 2
        x1, x2 = np.sqrt(tau) * np.exp(ys), np.sqrt(tau) * np.exp(-ys)
        ok = (x1 < 1) & (x2 < 1)
        for (u, d), v in ckm.items():
            # W+ : up-type quark (beam 1) x down-type antiquark (beam 2)
            out_p[i, ok] += v**2 * grid.f(u, x1[ok], m) * grid.f(-d, x2[ok], m)
            # W- : down-type quark (beam 1) x up-type antiquark (beam 2)
            out_m[i, ok] += v**2 * grid.f(d, x1[ok], m) * grid.f(-u, x2[ok], m)
    return out_p, out_m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("grid", help="path of NNPDF23_lo_as_0130_qed_0000.dat")
    ap.add_argument("--out", default=str(ROOT / "fluxes"))
    args = ap.parse_args(argv)
    grid = Grid(args.grid)
    masses = np.arange(40.0, 130.0 + 1e-9, 2.5)            # GeV; covers M_W +- 15 Gamma_W
    for sqrts in (7000.0, 13000.0):
        ymax = np.log(sqrts / masses[0])
        ys = np.round(np.arange(-np.floor(ymax * 10) / 10, np.floor(ymax * 10) / 10 + 1e-9, 0.1), 3)
        lp, lm = luminosities(grid, sqrts, masses, ys)
        mm, yy = np.meshgrid(masses, ys, indexing="ij")
        name = Path(args.out) / f"pp_w_lumi_{int(sqrts / 1000)}tev.csv"
        header = (
            f"# qq'-bar -> W+- parton luminosities at sqrt(s) = {sqrts / 1000:g} TeV (pp), LO, mu_F = M.\n"
            "# Produced by tools/make_pp_luminosity.py from NNPDF2.3 LO alpha_s=0.130 QED central member\n"
            "#   (NNPDF23_lo_as_0130_qed_0000.dat, LHAPDF6 lhagrid1, as shipped in Pythia 8.318's source,\n"
            "#   PyPI sdist pythia8mc-8.318.0: share/Pythia8/pdfdata). NNPDF: Ball et al., NPB 867 (2013) 244,\n"
            "#   arXiv:1207.1303. Interpolation as Pythia LHAGrid1 (cubic Lagrange in ln x, ln Q).\n"
            f"# CKM (PDG 2024): Vud={c.V_UD} Vus={c.V_US} Vub={c.V_UB} Vcd={c.V_CD} Vcs={c.V_CS} Vcb={c.V_CB}\n"
            "# Columns: M_GeV, y (W rapidity), Lplus_q1 = sum |V|^2 f_q(x1) f_qbar'(x2) for W+ with the quark\n"
            "#   in beam 1 (+z), Lminus_q1 likewise for W-; parton densities (not x f), dimensionless;\n"
            "#   x1,2 = M/sqrt(s) exp(+-y). The quark-in-beam-2 luminosity is the same column at -y.\n"
        )
        rows = np.column_stack([mm.ravel(), yy.ravel(), lp.ravel(), lm.ravel()])
        with open(name, "w") as fh:
            fh.write(header)
            fh.write("M_GeV,y,Lplus_q1,Lminus_q1\n")
            for r in rows:
                fh.write(f"{r[0]:.2f},{r[1]:.2f},{r[2]:.6e},{r[3]:.6e}\n")
        print(f"wrote {name}: {len(masses)} masses x {len(ys)} rapidities")


if __name__ == "__main__":
    main()
