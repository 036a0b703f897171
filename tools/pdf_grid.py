"""LHAPDF6 ``lhagrid1`` reader and two-loop alpha_s for the offline W tools (not used at run time).

The grids are the central members shipped in Pythia 8.318's source (PyPI sdist ``pythia8mc``,
``share/Pythia8/pdfdata``; obtain with ``pip download --no-deps --no-binary :all: pythia8mc``).  A grid file
holds one or more Q subgrids (NNPDF3.1 has a subgrid boundary at the b threshold); inside a subgrid the
interpolation is the one Pythia's ``LHAGrid1::xfxevolve`` uses: 4-point Lagrange polynomials in ln x and ln Q
of x f(x, Q).  Units: GeV.

Sets used (citations):

* ``NNPDF31_nlo_as_0118_luxqed`` (central of the NLO calculation) and ``NNPDF31_nnlo_as_0118_luxqed``:
  NNPDF Collaboration, R.D. Ball et al., EPJC 77 (2017) 663 [arXiv:1706.00428]; luxQED: V. Bertone et al.,
  SciPost Phys. 5 (2018) 008 [arXiv:1712.07053].
* ``NNPDF23_lo_as_0130_qed``, ``NNPDF23_nlo_as_0119_qed``: R.D. Ball et al., NPB 867 (2013) 244 [arXiv:1207.1303].
* ``PDF4LHC21_mc``: PDF4LHC Working Group, J. Phys. G 49 (2022) 080501 [arXiv:2203.05506].
* ``CT14qed_proton``: C. Schmidt et al., PRD 93 (2016) 114015 [arXiv:1509.02905].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: alpha_s(M_Z) of each set (from the sets' names / publications; the .info files are not shipped)
ALPHAS_MZ = {
    "NNPDF31_nlo_as_0118_luxqed": 0.118, "NNPDF31_nnlo_as_0118_luxqed": 0.118,
    "NNPDF23_nlo_as_0119_qed": 0.119, "NNPDF23_nnlo_as_0119_qed": 0.119, "NNPDF23_lo_as_0130_qed": 0.130,
    "PDF4LHC21_mc": 0.118, "CT14qed_proton": 0.118,
}
MZ_GEV = 91.1876


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


def read_lhagrid1(path):
    """List of subgrids (x grid, Q grid [GeV], flavour ids, xf array [nflav, nQ, nx])."""
    text = Path(path).read_text()
    blocks = [b for b in text.split("---")[1:] if b.strip()]
    out = []
    for blk in blocks:
        lines = [ln for ln in blk.strip().split("\n") if ln.strip()]
        x = np.array(lines[0].split(), float)
        q = np.array(lines[1].split(), float)
        ids = [int(v) for v in lines[2].split()]
        vals = np.array([ln.split() for ln in lines[3:]], float).reshape(len(x), len(q), len(ids))
        out.append((x, q, ids, np.transpose(vals, (2, 1, 0))))
    return out


class Grid:
    """Parton densities of one set.  ``f(pid, x, q)``: f(x, Q) (not x f) for scalar Q [GeV], array x."""

    def __init__(self, path):
        self.path = Path(path)
        self.name = self.path.name.replace("_0000.dat", "")
        self.subgrids = []
        for x, q, ids, xf in read_lhagrid1(path):
            self.subgrids.append(dict(x=x, q=q, lnx=np.log(x), lnq=np.log(q), xf=xf,
                                      index={pid: k for k, pid in enumerate(ids)}))
        self.alphas_mz = ALPHAS_MZ.get(self.name)
        self._cache = {}

    def _sub(self, q):
        for sg in reversed(self.subgrids):          # the highest subgrid containing q
            if sg["q"][0] <= q <= sg["q"][-1]:
                return sg
        raise ValueError(f"Q = {q} GeV outside the grid")

    def _at_q(self, sg, pid, q):
        key = (id(sg), pid, float(q))
        if key not in self._cache:
            m3q, wq = _lagrange_weights(sg["lnq"], np.log(q))
            grid = sg["xf"][sg["index"][pid]]
            self._cache[key] = sum(wq[a] * grid[m3q + a] for a in range(4))
        return self._cache[key]

    def xf(self, pid, x, q):
        x = np.asarray(x, float)
        sg = self._sub(q)
        if pid not in sg["index"]:
            return np.zeros_like(x)
        at_q = self._at_q(sg, pid, q)
        xc = np.clip(x, sg["x"][0], sg["x"][-1])
        m3x, wx = _lagrange_weights(sg["lnx"], np.log(xc))
        val = sum(wx[a] * at_q[m3x + a] for a in range(4))
        return np.where((x >= 1.0) | (x <= 0.0), 0.0, val)

    def f(self, pid, x, q):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, self.xf(pid, x, q) / np.where(x > 0, x, 1.0), 0.0)


def alphas(q, alphas_mz, nf=5):
    """Two-loop alpha_s(Q) [GeV] from alpha_s(M_Z) (``nudmsim.sources.pp_nlo.alphas_two_loop``)."""
    from nudmsim.sources.pp_nlo import alphas_two_loop

    return alphas_two_loop(q, alphas_mz, nf, MZ_GEV)
