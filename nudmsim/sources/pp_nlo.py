"""O(alpha_s) Drell-Yan W (and Z) production: NLO rapidity distribution, W + jet spectrum, angular coefficients.

Offline physics for ``tools/make_pp_luminosity.py`` (the run time reads only the tables it writes).  Any PDF
object with ``f(pid, x, q_GeV)`` (parton density, not x f) and ``alphas_mz`` works; tests use toy PDFs.
Units: GeV.  mu_F = mu_R = M (the boson virtuality), MS-bar, a = alpha_s(M)/(2 pi).

Cross sections are given in units of sigma_hat_lnu(M)/S, where sigma_hat_lnu is the partonic LO
q qbar' -> W -> l nu cross section per unit |V|^2 (``nudmsim.sources.pp.sigma_hat_lnu``), so that at LO

    d sigma / dM^2 dy = (sigma_hat_lnu/S) L(x1, x2),   L = sum_pairs w f_a(x1) f_b(x2),  x1,2 = M/sqrt(S) e^{+-y}.

Real emission (derived from the collinear limits, see docs/w_boson.md; |V|^2 and couplings inside w):

    d sigma_hat(q qbar' -> W g)/dM^2 dt = sigma_hat_lnu (a CF / s^2) (t^2 + u^2 + 2 M^2 s)/(t u),
    d sigma_hat(q g -> W q')/dM^2 dt    = sigma_hat_lnu (a TR / s^2) [-(s^2 + t^2 + 2 M^2 u)/(s t)],  t = (p_g - k)^2,

and d sigma/dM^2 dy dpT^2 = sum int dy_k x1 f(x1) x2 f(x2) d sigma_hat/dM^2 dt (the 2 -> 2 Jacobian is x1 x2).
Below a transverse-momentum cut q_c the O(alpha_s) expansion of the q_T-resummed cross section (Collins,
Soper, Sterman; hard-scheme coefficients of Catani et al., NPB 881 (2014) 414) gives, with L = ln(M^2/q_c^2),

    Sigma(q_T < q_c) = sum w { f_a f_b [1 + a(-CF L^2 + 3 CF L + H)] + a [(K_qq (x) f_a) f_b + f_a (K_qq (x) f_b)] }
                       + a [(K_qg (x) g) sum_b c_b f_b + sum_a c_a f_a (K_qg (x) g)],
    K_ij = -L P_ij + C_ij,   C_qq = CF (1 - z),  C_qg = 2 TR z (1 - z),  H = CF (pi^2/2 - 4)

(P_qq = CF [(1 + z^2)/(1 - z)]_+ with its 3/2 delta term, P_qg = TR (z^2 + (1 - z)^2)).  The NLO rapidity
distribution is Sigma(q_c) + the real emission above q_c; its integral over y equals the total O(alpha_s)
cross section of Altarelli, Ellis, Martinelli (NPB 157 (1979) 461), a test of every constant above, and it
does not depend on q_c (a test of the logarithms).

Channels are split by the side of the (effective) quark, as the generator needs it: q qbar' with the quark in
beam 1, q g with the quark in beam 1, g qbar' with the antiquark in beam 2 ("quark side" = beam 1).
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..processes import w_angular as wa

CF, TR = 4.0 / 3.0, 0.5
H1 = CF * (np.pi**2 - 8.0)
GL_X, GL_W = np.polynomial.legendre.leggauss(96)


# ------------------------------------------------------------------------------------------------
# currents: which q qbar' pairs make the boson, with which weight
# ------------------------------------------------------------------------------------------------
def w_pairs(charge):
    """[(quark pid, antiquark pid, |V|^2)] for W+ (u-type quark + d-type antiquark) or W-."""
    ckm = {(2, 1): c.V_UD, (2, 3): c.V_US, (2, 5): c.V_UB, (4, 1): c.V_CD, (4, 3): c.V_CS, (4, 5): c.V_CB}
    if charge > 0:
        return [(u, -d, v * v) for (u, d), v in ckm.items()]
    return [(d, -u, v * v) for (u, d), v in ckm.items()]


def z_pairs(sin2w=0.2312):
    """[(q, -q, v_q^2 + a_q^2)] for Z -> l l (v = T3 - 2 Q sin^2 theta_W, a = T3), q = d, u, s, c, b."""
    out = []
    quarks = {1: (-0.5, -1 / 3), 2: (0.5, 2 / 3), 3: (-0.5, -1 / 3), 4: (0.5, 2 / 3), 5: (-0.5, -1 / 3)}
    for q, (t3, ch) in quarks.items():
        v, a = t3 - 2 * ch * sin2w, t3
        out.append((q, -q, v * v + a * a))
    return out


def _side_weights(pairs):
    ca, cb = {}, {}
    for a, b, w in pairs:
        ca[a] = ca.get(a, 0.0) + w
        cb[b] = cb.get(b, 0.0) + w
    return ca, cb


def lumis(pdf, pairs, x1, x2, q):
    """(q qbar', q g, g qbar') luminosities with the quark side in beam 1 at (x1, x2) (arrays), scale q [GeV]."""
    x1 = np.asarray(x1, float)
    x2 = np.asarray(x2, float)
    cache = {}

    def f(pid, x, tag):
        key = (pid, tag)
        if key not in cache:
            cache[key] = pdf.f(pid, x, q)
        return cache[key]

    ca, cb = _side_weights(pairs)
    qq = sum(w * f(a, x1, 1) * f(b, x2, 2) for a, b, w in pairs)
    qg = sum(w * f(a, x1, 1) for a, w in ca.items()) * f(21, x2, 2)
    gq = f(21, x1, 1) * sum(w * f(b, x2, 2) for b, w in cb.items())
    return qq, qg, gq


# ------------------------------------------------------------------------------------------------
# convolutions with splitting and coefficient functions
# ------------------------------------------------------------------------------------------------
def _zgrid(x):
    """Gauss-Legendre nodes z in [x, 1] (in ln z) and weights dz, shape (n_x, n_nodes)."""
    lx = np.log(np.asarray(x, float))[:, None]
    v = 0.5 * lx * (1.0 - GL_X[None, :])           # from ln x (GL_X = -1) to 0 (GL_X = +1)
    z = np.exp(v)
    return z, -0.5 * lx * GL_W[None, :] * z


def convolutions(pdf, pid, x, q, L):
    """((-L P_qq + C_qq) (x) f_pid)(x) for a quark pid, or ((-L P_qg + C_qg) (x) g)(x) for pid = 21
    (the gluon splitting into the quark of the pair), x a 1-d array."""
    x = np.asarray(x, float)
    z, dz = _zgrid(x)
    fz = pdf.f(pid, (x[:, None] / z).ravel(), q).reshape(z.shape) / z
    if pid == 21:
        pqg = TR * (z * z + (1 - z) ** 2)
        cqg = 2 * TR * z * (1 - z)
        return np.sum(dz * (-L * pqg + cqg) * fz, axis=1)
    fx = pdf.f(pid, x, q)
    plus = np.sum(dz * ((1 + z * z) * fz - 2.0 * fx[:, None]) / (1 - z), axis=1)
    pqq = CF * (plus + 2.0 * fx * np.log1p(-x) + 1.5 * fx)
    cqq = CF * np.sum(dz * (1 - z) * fz, axis=1)
    return -L * pqq + cqq


def sliced(pdf, pairs, m, y, sqrts, qc):
    """Sigma(q_T < q_c)/(sigma_hat/S) with the quark side in beam 1, at mass m [GeV] and rapidities y (array)."""
    y = np.asarray(y, float)
    x1, x2 = m / sqrts * np.exp(y), m / sqrts * np.exp(-y)
    inside = (x1 < 1) & (x2 < 1)
    x1, x2 = np.where(inside, x1, 0.5), np.where(inside, x2, 0.5)
    a = pdf_alphas(pdf, m) / (2 * np.pi)
    L = np.log(m * m / (qc * qc))
    ca, cb = _side_weights(pairs)
    f = {}
    for pid in set([p for p, _, _ in pairs] + [b for _, b, _ in pairs]):
        f[(pid, 1)] = pdf.f(pid, x1, m)
        f[(pid, 2)] = pdf.f(pid, x2, m)
    k = {}
    for pid in set([p for p, _, _ in pairs] + [b for _, b, _ in pairs] + [21]):
        k[(pid, 1)] = convolutions(pdf, pid, x1, m, L)
        k[(pid, 2)] = convolutions(pdf, pid, x2, m, L)
    virt = 1.0 + a * (-CF * L * L + 3 * CF * L + H1)
    out = sum(w * (f[(qa, 1)] * f[(qb, 2)] * virt + a * (k[(qa, 1)] * f[(qb, 2)] + f[(qa, 1)] * k[(qb, 2)]))
              for qa, qb, w in pairs)
    out = out + a * (k[(21, 1)] * sum(w * f[(qb, 2)] for qb, w in cb.items())
                     + sum(w * f[(qa, 1)] for qa, w in ca.items()) * k[(21, 2)])
    return np.where(inside, out, 0.0)


def pdf_alphas(pdf, q):
    """alpha_s(q) of the PDF set: its own ``alphas(q)`` if it has one, else two-loop running from alphas_mz."""
    from_pdf = getattr(pdf, "alphas", None)
    if callable(from_pdf):
        return float(from_pdf(q))
    return float(alphas_two_loop(q, pdf.alphas_mz))


def alphas_two_loop(q, alphas_mz, nf=5, mz=91.1876):
    """Two-loop running alpha_s(Q) (Q in GeV) from alpha_s(M_Z), n_f = 5 (RK4 in ln Q^2)."""
    b0 = (33 - 2 * nf) / (12 * np.pi)
    b1 = (153 - 19 * nf) / (24 * np.pi**2)
    t1 = np.log(np.asarray(q, float) ** 2 / mz**2)
    n = 200
    a = np.full(np.shape(t1), alphas_mz, float)
    h = t1 / n

    def rhs(v):
        return -b0 * v * v - b1 * v**3

    for _ in range(n):
        k1 = rhs(a)
        k2 = rhs(a + 0.5 * h * k1)
        k3 = rhs(a + 0.5 * h * k2)
        k4 = rhs(a + h * k3)
        a = a + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return a


# ------------------------------------------------------------------------------------------------
# real emission (W + parton)
# ------------------------------------------------------------------------------------------------
def yk_range(m, y, pt, sqrts):
    """Allowed rapidity range of the recoiling parton (x1, x2 <= 1)."""
    mt = np.sqrt(m * m + pt * pt)
    hi = np.log(np.maximum(sqrts - mt * np.exp(y), 1e-300) / pt)
    lo = -np.log(np.maximum(sqrts - mt * np.exp(-y), 1e-300) / pt)
    return lo, hi


def real_density(pdf, pairs, m, y, pt, sqrts, n_yk=64, angular=False, charge=1):
    """d sigma/(dM^2 dy dpT^2) / (sigma_hat/S) for the quark side in beam 1 [GeV^-2], arrays y and pt (same
    shape), summed over the three channels.  With ``angular=True`` also returns the cross-section weighted
    A0..A4 (array (5, ...)) in the quark-oriented CS frame."""
    with np.errstate(all="ignore"):
        return _real_density(pdf, pairs, m, y, pt, sqrts, n_yk, angular, charge)


def _real_density(pdf, pairs, m, y, pt, sqrts, n_yk=64, angular=False, charge=1):
    y = np.asarray(y, float)[..., None]
    pt = np.asarray(pt, float)[..., None]
    lo, hi = yk_range(m, y, pt, sqrts)
    ok = hi > lo
    lo, hi = np.where(ok, lo, 0.0), np.where(ok, hi, 0.0)
    gx, gw = np.polynomial.legendre.leggauss(n_yk)
    yk = 0.5 * (hi + lo) + 0.5 * (hi - lo) * gx
    wyk = 0.5 * (hi - lo) * gw * ok
    kin = wa.partonic_kinematics(m, y, pt, yk, sqrts)
    x1 = np.clip(kin["x1"], 1e-12, 1.0)
    x2 = np.clip(kin["x2"], 1e-12, 1.0)
    s, t1, u1 = wa.mandelstam(kin, m)
    a = pdf_alphas(pdf, m) / (2 * np.pi)
    qq, qg, gq = lumis(pdf, pairs, x1.ravel(), x2.ravel(), m)
    qq, qg, gq = (v.reshape(x1.shape) for v in (qq, qg, gq))
    pref = sqrts**2 * x1 * x2 * a / (s * s)
    d_qq = pref * CF * wa.me_qqbar(s, u1, t1, m) * qq
    d_qg = pref * TR * wa.me_qg(s, t1, u1, m) * qg
    d_gq = pref * TR * wa.me_qg(s, u1, t1, m) * gq
    good = ok & (kin["x1"] < 1) & (kin["x2"] < 1)
    d_qq, d_qg, d_gq = (np.where(good, np.nan_to_num(v), 0.0) for v in (d_qq, d_qg, d_gq))
    tot = np.sum(wyk * (d_qq + d_qg + d_gq), axis=-1)
    if not angular:
        return tot
    acc = np.zeros((5,) + tot.shape)
    for ch, d in (("qqbar", d_qq), ("qg", d_qg), ("gqbar", d_gq)):
        coef = wa.channel_coefficients(ch, kin, m, y, pt, charge)
        acc += np.sum(wyk * d * np.nan_to_num(coef), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tot, acc / tot


def real_above(pdf, pairs, m, y, sqrts, qc, n_pt=96, n_yk=64):
    """Real emission integrated over p_T > q_c, per y (array): d sigma/dM^2 dy / (sigma_hat/S)."""
    y = np.asarray(y, float)
    ptmax = 0.5 * (sqrts**2 - m * m) / sqrts
    gx, gw = np.polynomial.legendre.leggauss(n_pt)
    lq, lm = np.log(qc), np.log(ptmax)
    lpt = 0.5 * (lm + lq) + 0.5 * (lm - lq) * gx
    pt = np.exp(lpt)
    w = 0.5 * (lm - lq) * gw * 2 * pt * pt            # dpT^2 = 2 pT^2 dln pT
    yy, pp = np.meshgrid(y, pt, indexing="ij")
    dens = real_density(pdf, pairs, m, yy, pp, sqrts, n_yk)
    return np.sum(dens * w[None, :], axis=1)


def nlo_rapidity(pdf, pairs, m, y, sqrts, qc=4.0, **kw):
    """NLO d sigma/dM^2 dy / (sigma_hat/S), quark side in beam 1 (q_T slicing; see the module docstring)."""
    return sliced(pdf, pairs, m, y, sqrts, qc) + real_above(pdf, pairs, m, y, sqrts, qc, **kw)


def lo_rapidity(pdf, pairs, m, y, sqrts):
    y = np.asarray(y, float)
    return lumis(pdf, pairs, m / sqrts * np.exp(y), m / sqrts * np.exp(-y), m)[0]


# ------------------------------------------------------------------------------------------------
# total cross section (Altarelli-Ellis-Martinelli), the check of the slicing
# ------------------------------------------------------------------------------------------------
def delta_qqbar(z):
    """Regular part of the MS-bar q qbar coefficient (units a = alpha_s/2pi, without the plus and delta parts):
    CF [-2 (1 + z^2) ln z/(1 - z)]; the plus part 4 CF (1 + z^2)(ln(1 - z)/(1 - z))_+ and the delta
    CF (2 pi^2/3 - 8) are applied in :func:`total_nlo`."""
    return CF * (-2.0 * (1 + z * z) * np.log(z) / (1 - z))


def delta_qg(z):
    """MS-bar q g coefficient: TR [(z^2 + (1 - z)^2) ln((1 - z)^2/z) + 1/2 + 3z - 7z^2/2]."""
    return TR * ((z * z + (1 - z) ** 2) * np.log((1 - z) ** 2 / z) + 0.5 + 3 * z - 3.5 * z * z)


def total_nlo(pdf, pairs, m, sqrts, n=400):
    """(LO, NLO) d sigma/dM^2 integrated over y, / (sigma_hat/S), from the AEM coefficient functions:
    d sigma/dM^2 = (sigma_hat/S) int_tau^1 dz/z Lum(tau/z) [delta(1 - z) + a Delta(z)], both quark sides."""
    tau = (m / sqrts) ** 2
    a = pdf_alphas(pdf, m) / (2 * np.pi)
    ca, cb = _side_weights(pairs)

    def lum(t, kind):
        """Parton luminosity int_t^1 dx/x f_a(x) f_b(t/x), quark side beam 1, kind in (qq, qg, gq)."""
        t = np.atleast_1d(t)
        lx = np.log(t)[:, None] * 0.5 * (1 - GL_X[None, :])
        x = np.exp(lx)
        w = -0.5 * np.log(t)[:, None] * GL_W[None, :]
        qq, qg, gq = lumis(pdf, pairs, x.ravel(), (t[:, None] / x).ravel(), m)
        val = {"qq": qq, "qg": qg, "gq": gq}[kind].reshape(x.shape)
        return np.sum(w * val, axis=1)

    lo = lum(tau, "qq")[0]
    gx, gw = np.polynomial.legendre.leggauss(n)
    lz = np.log(tau) * 0.5 * (1 - gx)             # z from tau to 1 in ln z
    z = np.exp(lz)
    dz = -0.5 * np.log(tau) * gw * z
    lqq, lqg, lgq = lum(tau / z, "qq"), lum(tau / z, "qg"), lum(tau / z, "gq")
    # plus distribution 4 CF (1+z^2) (ln(1-z)/(1-z))_+ acting on g(z) = Lum(tau/z)/z
    g = lqq / z
    plus = np.sum(dz * (4 * CF * ((1 + z * z) * g - 2 * lo) * np.log1p(-z) / (1 - z)))
    plus += 4 * CF * 2 * lo * (0.5 * np.log1p(-tau) ** 2)     # -int_0^tau 2 lo ln(1-z)/(1-z) dz
    reg = np.sum(dz * delta_qqbar(z) * g)
    dqq = plus + reg + CF * (2 * np.pi**2 / 3 - 8) * lo
    dqg = np.sum(dz * delta_qg(z) * (lqg + lgq) / z)
    return 2 * lo, 2 * (lo + a * (dqq + dqg))
