"""HNL decay kinematics: matrix elements on the Dalitz plane, a quadrature of the 3-body widths (second method
for the closed forms of :mod:`nudmsim.processes.hnl_widths`) and the four-vector sampler of the
``hnl-decay`` generator.  Units: MeV; four-vectors are arrays (..., 4) = (E, px, py, pz).

Three-body conventions (daughters 1, 2, 3; s_ij = (p_i + p_j)^2, Gamma = int |M|^2 ds12 ds23 / (256 pi^3 M^3)):
* ``nll``: N -> nu(1) l-(2) l+(3), spin-averaged |M|^2 = 64 G_F^2 |U|^2 [g_L^2 (p.p3)(p1.p2) + g_R^2 (p.p2)(p1.p3)
  + g_L g_R m_l^2 (p.p1)];
* ``cc``: N -> l_a-(1) l_b+(2) nu_b(3), |M|^2 = 64 G_F^2 |U|^2 (p.p2)(p1.p3) (seed eq. A.1 squared).
The HNL is unpolarised: decays are isotropic in its rest frame (an HNL from a meson decay is polarised;
that correlation is not modelled).
"""
from __future__ import annotations

import math

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..models.neutrino_portal import sqrt_kallen
from . import hnl_widths as W


# ------------------------------------------------------------------------------------------------
# matrix elements (per |U|^2) as functions of the Dalitz invariants
# ------------------------------------------------------------------------------------------------
def msq(kind: str, M: float, masses, s12, s23, gl_gr=(0.0, 0.0)):
    """Spin-averaged |M|^2 / |U|^2 (dimensionless) of a 3-body channel at (s12, s23) [MeV^2]."""
    m1, m2, m3 = masses
    s12, s23 = np.asarray(s12, float), np.asarray(s23, float)
    s13 = M * M + m1 * m1 + m2 * m2 + m3 * m3 - s12 - s23
    pp = {1: 0.5 * (M * M + m1 * m1 - s23), 2: 0.5 * (M * M + m2 * m2 - s13), 3: 0.5 * (M * M + m3 * m3 - s12)}
    p12, p13, p23 = 0.5 * (s12 - m1 * m1 - m2 * m2), 0.5 * (s13 - m1 * m1 - m3 * m3), 0.5 * (s23 - m2 * m2 - m3 * m3)
    g2 = 64.0 * c.G_FERMI**2
    if kind == "nll":
        gL, gR = gl_gr
        return g2 * (gL * gL * pp[3] * p12 + gR * gR * pp[2] * p13 + gL * gR * m2 * m2 * pp[1])
    if kind == "cc":
        return g2 * pp[2] * p13
    raise ValueError(f"no 3-body matrix element for kind {kind!r}")


def s23_limits(M, masses, s12):
    """(s23_min, s23_max) at fixed s12 (PDG kinematics eq. 49.23 with 1,2 | 3)."""
    m1, m2, m3 = masses
    r = np.sqrt(s12)
    e2 = (s12 - m1 * m1 + m2 * m2) / (2 * r)
    e3 = (M * M - s12 - m3 * m3) / (2 * r)
    p2 = np.sqrt(np.maximum(e2 * e2 - m2 * m2, 0.0))
    p3 = np.sqrt(np.maximum(e3 * e3 - m3 * m3, 0.0))
    return (e2 + e3) ** 2 - (p2 + p3) ** 2, (e2 + e3) ** 2 - (p2 - p3) ** 2


def dalitz_width(kind: str, M: float, masses, gl_gr=(0.0, 0.0), n: int = 96) -> float:
    """Gamma/|U|^2 [MeV] of a 3-body channel by 2-d Gauss-Legendre quadrature of :func:`msq`."""
    m1, m2, m3 = masses
    if M <= m1 + m2 + m3:
        return 0.0
    lo, hi = (m1 + m2) ** 2, (M - m3) ** 2
    x, w = np.polynomial.legendre.leggauss(n)
    s12 = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    a, b = s23_limits(M, masses, s12)
    s23 = 0.5 * (b - a)[:, None] * x[None, :] + 0.5 * (b + a)[:, None]
    inner = (msq(kind, M, masses, s12[:, None], s23, gl_gr) * w[None, :]).sum(axis=1) * 0.5 * (b - a)
    return float((inner * w).sum() * 0.5 * (hi - lo) / (256 * math.pi**3 * M**3))


# ------------------------------------------------------------------------------------------------
# four-vectors
# ------------------------------------------------------------------------------------------------
def _random_rotation(n, rng):
    """n uniformly distributed rotation matrices (quaternion method)."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], 1)


def two_body(M, m1, m2, n, rng):
    """Isotropic M -> 1 2 in the rest frame: array (n, 2, 4)."""
    p = float(sqrt_kallen(M * M, m1 * m1, m2 * m2)) / (2 * M)
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * math.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    v = p * np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], -1)
    m1 = np.broadcast_to(np.asarray(m1, float), (n,))
    m2 = np.broadcast_to(np.asarray(m2, float), (n,))
    out = np.empty((n, 2, 4))
    out[:, 0, 0], out[:, 0, 1:] = np.sqrt(p * p + m1**2), v
    out[:, 1, 0], out[:, 1, 1:] = np.sqrt(p * p + m2**2), -v
    return out


def two_body_var(M, m1, m2, rng):
    """Isotropic 2-body decay with a per-event daughter-2 mass ``m2`` (array): (n, 2, 4)."""
    m2 = np.asarray(m2, float)
    n = m2.size
    p = sqrt_kallen(M * M, m1 * m1, m2 * m2) / (2 * M)
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * math.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    v = p[:, None] * np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], -1)
    out = np.empty((n, 2, 4))
    out[:, 0, 0], out[:, 0, 1:] = np.sqrt(p * p + m1 * m1), v
    out[:, 1, 0], out[:, 1, 1:] = np.sqrt(p * p + m2 * m2), -v
    return out


def three_body(M, masses, s12, s23, rng):
    """Four-vectors (n, 3, 4) in the rest frame for Dalitz points (s12, s23), random orientation."""
    m1, m2, m3 = masses
    n = len(s12)
    s13 = M * M + m1 * m1 + m2 * m2 + m3 * m3 - s12 - s23
    E1 = (M * M + m1 * m1 - s23) / (2 * M)
    E3 = (M * M + m3 * m3 - s12) / (2 * M)
    E2 = M - E1 - E3
    P1 = np.sqrt(np.maximum(E1 * E1 - m1 * m1, 0))
    P3 = np.sqrt(np.maximum(E3 * E3 - m3 * m3, 0))
    # angle between 1 and 3 from s13 = m1^2 + m3^2 + 2 (E1 E3 - P1 P3 cos)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos13 = np.where(P1 * P3 > 0, (2 * E1 * E3 + m1 * m1 + m3 * m3 - s13) / (2 * P1 * P3), 1.0)
    cos13 = np.clip(cos13, -1, 1)
    sin13 = np.sqrt(1 - cos13**2)
    v1 = np.stack([np.zeros(n), np.zeros(n), P1], -1)
    v3 = np.stack([P3 * sin13, np.zeros(n), P3 * cos13], -1)
    v2 = -(v1 + v3)
    R = _random_rotation(n, rng)
    out = np.empty((n, 3, 4))
    for i, (E, v) in enumerate(((E1, v1), (E2, v2), (E3, v3))):
        out[:, i, 0] = E
        out[:, i, 1:] = np.einsum("nij,nj->ni", R, v)
    return out


def boost_z(p4, gamma_beta):
    """Boost four-vectors (..., 4) along +z by beta gamma = ``gamma_beta`` (broadcast per event)."""
    gb = np.asarray(gamma_beta, float)
    g = np.sqrt(1 + gb * gb)
    while gb.ndim < p4.ndim - 1:
        gb, g = gb[..., None], g[..., None]
    out = p4.copy()
    out[..., 0] = g * p4[..., 0] + gb * p4[..., 3]
    out[..., 3] = gb * p4[..., 0] + g * p4[..., 3]
    return out


def sample_channel(ch: W.Channel, M: float, n: int, rng):
    """(four-vectors (n, k, 4) in the HNL rest frame, relative weights (n,)) for ``n`` decays in channel ``ch``.

    3-body: s12 uniform, s23 uniform within its limits, weight |M|^2 x (s23 range) (flat-Dalitz importance
    weights; normalised by the caller).  Broad vectors (rho, K*): the meson mass is drawn from the same
    Breit-Wigner the width uses (normalised weights)."""
    if ch.kind == "2body":
        m1, m2 = ch.masses
        width = W.BROAD.get(abs(ch.pdg[1]))
        if width is None:
            return two_body(M, m1, m2, n, rng), np.ones(n)
        s_thr, gam = width
        s_max = (M - m1) ** 2
        m2n, mg = m2 * m2, m2 * gam
        u = rng.uniform(math.atan((s_thr - m2n) / mg), math.atan((s_max - m2n) / mg), n)
        mass = np.sqrt(m2n + mg * np.tan(u))
        mes = next(x for x in W.CHARGED_MESONS + W.NEUTRAL_MESONS if x.pdg == abs(ch.pdg[1]))
        if mes.charged:
            rel = np.array([W._width_l_meson(M, m1, mes, mh) for mh in mass])
        else:
            rel = np.array([W._width_nu_meson(M, mes, mh) for mh in mass])
        return two_body_var(M, m1, mass, rng), rel
    if ch.kind in ("nll", "cc"):
        masses = ch.masses
        m1, m2, m3 = masses
        lo, hi = (m1 + m2) ** 2, (M - m3) ** 2
        s12 = rng.uniform(lo, hi, n)
        a, b = s23_limits(M, masses, s12)
        s23 = a + (b - a) * rng.uniform(0, 1, n)
        w = msq(ch.kind, M, masses, s12, s23, ch.gl_gr) * (b - a)
        return three_body(M, masses, s12, s23, rng), np.maximum(w, 0.0)
    raise ParameterError(f"channel {ch.name} is invisible: nothing to generate")


# ------------------------------------------------------------------------------------------------
# the generator
# ------------------------------------------------------------------------------------------------
MAX_DAUGHTERS = 3


def generate_decays(hnl: W.HNL, n: int, rng, energy: float | None = None, n_hnl: float = 1.0,
                    z_range_mm: tuple | None = None) -> tuple[dict, float, list]:
    """Weighted visible decays of ``hnl``: (columns, expected total, visible channel list).

    The HNL moves along +z with lab ``energy`` [MeV] (None or <= M: at rest).  Every visible channel gets one
    event and the other n - n_channels are shared by a multinomial draw with probabilities B_ch/B_vis; weights within a channel are the
    importance weights of :func:`sample_channel` normalised so that every channel sums to n_hnl x P x B_ch
    exactly, where P = exp(-z_min/L) - exp(-z_max/L) is the probability to decay in ``z_range_mm``
    (L = beta gamma c tau; P = 1 without a range).  The decay vertex z is drawn from the truncated
    exponential.  Columns: ``channel_id`` (index into the returned list), per daughter i = 1..3 ``pdg_i``,
    ``E_i``, ``px_i``, ``py_i``, ``pz_i`` [MeV] (pdg 0 and zeros when absent), the HNL ``E_N``, ``pz_N``,
    ``vertex_z_mm`` and ``weight``."""
    chans = hnl.channels()
    gam_tot = sum(ch.width for ch in chans)
    vis = [ch for ch in chans if ch.visible]
    if not vis:
        thr = 2 * c.M_ELECTRON
        raise ParameterError(f"HNL of mass {hnl.M:g} MeV has no visible decay channel open (only invisible "
                             f"ones); the first visible threshold is N -> nu e+ e- at 2 m_e = {thr:.4g} MeV: raise "
                             "the mass (or give a mixing, or set s_visible)")
    M = hnl.M
    E = M if energy is None or energy <= M else float(energy)
    gb = math.sqrt(E * E - M * M) / M
    P, z = 1.0, np.zeros(n)
    if z_range_mm is not None and z_range_mm[1] > 0:
        z1, z2 = map(float, z_range_mm)
        if not 0 <= z1 < z2:
            raise ParameterError(f"decay volume {z1:g}-{z2:g} mm: need 0 <= z_min < z_max")
        L = gb * c.C_LIGHT * c.HBAR / gam_tot if gb > 0 else 0.0
        if L == 0:
            raise ParameterError("an HNL at rest never reaches a decay volume: give its energy (E_N > m_N)")
        P = math.exp(-z1 / L) - math.exp(-z2 / L)
        u = rng.uniform(0, 1, n)
        z = -L * np.log(np.exp(-z1 / L) - u * P) if P > 0 else np.full(n, z1)
    br = np.array([ch.width for ch in vis]) / gam_tot
    if n < len(vis):
        raise ParameterError(f"{len(vis)} visible channels are open at M = {M:g} MeV: generate at least {len(vis)} "
                             "events (one per channel), e.g. -n 100000")
    # every channel gets >= 1 event (so that the weights sum exactly to the branching ratios); the rest
    # are shared in proportion to the branching ratios
    counts = np.ones(len(vis), int) + rng.multinomial(n - len(vis), br / br.sum())
    cols = {"channel_id": np.zeros(n, np.int32), "weight": np.zeros(n)}
    for i in range(1, MAX_DAUGHTERS + 1):
        cols[f"pdg_{i}"] = np.zeros(n, np.int32)
        for k in ("E", "px", "py", "pz"):
            cols[f"{k}_{i}"] = np.zeros(n)
    start = 0
    for j, (ch, k) in enumerate(zip(vis, counts)):
        if k == 0:
            continue
        sl = slice(start, start + k)
        p4, rel = sample_channel(ch, M, int(k), rng)
        p4 = boost_z(p4, gb)
        tot = rel.sum()
        cols["weight"][sl] = n_hnl * P * br[j] * (rel / tot if tot > 0 else 1.0 / k)
        cols["channel_id"][sl] = j
        for i in range(p4.shape[1]):
            cols[f"pdg_{i + 1}"][sl] = ch.pdg[i]
            for q, name in enumerate(("E", "px", "py", "pz")):
                cols[f"{name}_{i + 1}"][sl] = p4[:, i, q]
        start += k
    cols["E_N"] = np.full(n, E)
    cols["pz_N"] = np.full(n, gb * M)
    cols["vertex_z_mm"] = z
    return cols, float(n_hnl * P * br.sum()), vis
