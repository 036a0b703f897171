"""Heavy-neutral-lepton (HNL) partial widths, lifetimes and decay lengths (seed 003 App. A and §4.3).

A Dirac HNL N of mass M with mixings U_l (l = e, mu, tau; ``U2`` holds |U_l|^2) decays through the W and Z
of the mixing, plus optionally N -> nu s (seed 003 singlet, coupling g_s s Nbar N) and the dark channel
nu4 -> chi phi* of the neutrino-portal model.  Widths are per Dirac HNL (N; the charge conjugates of N-bar
are not added); a Majorana HNL has every width doubled (``majorana=True``).  Units: MeV (hepunits).

Leptonic 3-body (amplitude (4 G_F/sqrt2) U [nubar gamma^mu P_L N][lbar gamma_mu (g_L P_L + g_R P_R) l],
spin average 64 G_F^2 |U|^2 [g_L^2 (p.p+)(k.p-) + g_R^2 (p.p-)(k.p+) + g_L g_R m^2 (p.k)], checked with
explicit Dirac traces in tests/test_hnl_widths.py):

* N -> nu_a nu_b nubar_b summed over b: G_F^2 M^5 |U_a|^2 / (192 pi^3).
* N -> nu_a l_b- l_b+ : G_F^2 M^5 |U_a|^2/(192 pi^3) [C1 F1(x) + 4 C2 F2(x)], C1 = g_L^2 + g_R^2,
  C2 = g_L g_R, g_L = -1/2 + s_W^2 + delta_ab (the CC diagram Fierzes into g_L), g_R = s_W^2,
  F1 = (1 - 14x^2 - 2x^4 - 12x^6) sqrt(1-4x^2) + 12 x^4 (x^4 - 1) L,
  F2 = x^2 (2 + 10x^2 - 12x^4) sqrt(1-4x^2) + 6 x^4 (1 - 2x^2 + 2x^4) L,
  L = ln[(1 - 3x^2 - (1 - x^2) sqrt(1-4x^2)) / (x^2 (1 + sqrt(1-4x^2)))], x = m_l/M
  (Gorbunov & Shaposhnikov, JHEP 10 (2007) 015; Bondarenko et al., JHEP 11 (2018) 032, eqs. 3.5-3.6).
* N -> l_a- l_b+ nu_b (a != b, W only): seed 003 eq. A.4 (exact in both lepton masses),
  G_F^2 M^5 |U_a|^2/(192 pi^3) I(x_a, x_b), which is symmetric in x_a <-> x_b and reduces to eq. A.3,
  1 - 8x^2 + 8x^6 - x^8 - 12 x^4 ln x^2, when one mass vanishes.  The seed's spin-averaged |M|^2 (eq. A.2)
  as extracted reads "G_F^2 16 |U|^2 M E_b [...]"; the spin average of its own eq. A.1 is
  64 G_F^2 |U|^2 M E_b [(M^2 + m_b^2 - m_a^2)/2 - M E_b], and only that normalisation gives A.3/A.4
  (checked by direct integration): the 16 is a misprint or an extraction artefact.

Two-body (Bondarenko et al. 2018 §3.2; re-derived, see docs/hnl.md):

* N -> l_a- P+   : G_F^2 f_P^2 |V|^2 |U_a|^2 M^3/(16 pi) [(1 - x_l^2)^2 - x_P^2 (1 + x_l^2)] lambda^1/2(1, x_P^2, x_l^2)
* N -> nu_a P0   : G_F^2 f_P^2 |U_a|^2 M^3/(32 pi) (1 - x_P^2)^2
* N -> l_a- V+   : G_F^2 f_V^2 |V|^2 |U_a|^2 M^3/(16 pi) [(1 - x_l^2)^2 + x_V^2 (1 + x_l^2) - 2 x_V^4] lambda^1/2
* N -> nu_a V0   : G_F^2 K_V^2 f_V^2 |U_a|^2 M^3/(16 pi) (1 + 2 x_V^2)(1 - x_V^2)^2,
  K_V = sum_q c_q (T3_q - 2 Q_q s_W^2) for |V> = sum_q c_q |q qbar> (rho0: (1 - 2 s^2)/sqrt2,
  omega: -(2/3) s^2/sqrt2, phi: -(1/2 - 2 s^2/3))
* N -> nu_a gamma: 9 alpha G_F^2 M^5 |U_a|^2/(512 pi^4)
* N -> nu s      : g_s^2 sum_a |U_a|^2 M (1 - m_s^2/M^2)^2/(32 pi)  (g_s s Nbar N with N_L = cos theta N_L' +
  sin theta nu_L gives the Yukawa g_s theta s nubar_L N_R; |M|^2 averaged = g_s^2 theta^2 (M^2 - m_s^2)/2).

Multi-hadron final states are not included: the sum of single-meson channels is the standard description
below ~1 GeV (Bondarenko et al. 2018 §3.3 use it up to ~1-1.5 GeV and the quark-level width with QCD
corrections above); tests compare the total width with SensCalc (Ovchynnikov et al. 2023), which follows
that paper, within 5% for M < 1 GeV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..models.neutrino_portal import sqrt_kallen

FLAVOURS = ("e", "mu", "tau")
LEPTON_PDG = {"e": 11, "mu": 13, "tau": 15}
NU_PDG = {"e": 12, "mu": 14, "tau": 16}
S2W = c.SIN2_THETA_W


@dataclass(frozen=True)
class Meson:
    """A meson of the 2-body channels: ``kind`` P (pseudoscalar) or V (vector); charged mesons carry the
    CKM element ``ckm``, neutral ones the Z-current factor ``kappa`` (see module docstring)."""

    name: str
    pdg: int
    mass: float
    f: float
    kind: str
    charged: bool
    ckm: float = 0.0
    kappa: float = 0.0


CHARGED_MESONS = (
    Meson("pi+", 211, c.M_PION, c.F_PION, "P", True, ckm=c.V_UD),
    Meson("K+", 321, c.M_KAON, c.F_KAON, "P", True, ckm=c.V_US),
    Meson("D+", 411, c.M_D, c.F_D, "P", True, ckm=c.V_CD),
    Meson("Ds+", 431, c.M_DS, c.F_DS, "P", True, ckm=c.V_CS),
    Meson("rho+", 213, c.M_RHO, c.F_RHO, "V", True, ckm=c.V_UD),
    Meson("K*+", 323, c.M_KSTAR, c.F_KSTAR, "V", True, ckm=c.V_US),
)
NEUTRAL_MESONS = (
    Meson("pi0", 111, c.M_PION0, c.F_PION, "P", False, kappa=1.0),
    Meson("eta", 221, c.M_ETA, c.F_ETA, "P", False, kappa=1.0),
    Meson("eta'", 331, c.M_ETAPRIME, c.F_ETAPRIME, "P", False, kappa=1.0),
    Meson("rho0", 113, c.M_RHO0, c.F_RHO, "V", False, kappa=(1.0 - 2.0 * S2W) / math.sqrt(2.0)),
    Meson("omega", 223, c.M_OMEGA, c.F_OMEGA, "V", False, kappa=-(2.0 / 3.0) * S2W / math.sqrt(2.0)),
    Meson("phi", 333, c.M_PHI, c.F_PHI, "V", False, kappa=-(0.5 - 2.0 * S2W / 3.0)),
)

#: broad vectors: pdg -> (threshold s of the two-meson final state [MeV^2], width [MeV] from `particle`)
BROAD = {113: (4 * c.M_PION**2, c.WIDTH_RHO), 213: ((c.M_PION + c.M_PION0) ** 2, c.WIDTH_RHO),
         323: ((c.M_KAON + c.M_PION0) ** 2, c.WIDTH_KSTAR)}
#: G_F^2 M^5 / (192 pi^3) per unit mass^5 [MeV^-4]
_MU_DECAY = c.G_FERMI**2 / (192.0 * math.pi**3)


def _lam12(a, b, c_):
    return sqrt_kallen(a, b, c_)


# ------------------------------------------------------------------------------------------------
# leptonic three-body
# ------------------------------------------------------------------------------------------------
def a3_bracket(x):
    """Seed eq. A.3 bracket 1 - 8x^2 + 8x^6 - x^8 - 12 x^4 ln x^2 (x = m/M of the one massive lepton)."""
    x2 = np.asarray(x, float) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(x2 > 0, x2**2 * np.log(np.where(x2 > 0, x2, 1.0)), 0.0)
    return 1 - 8 * x2 + 8 * x2**3 - x2**4 - 12 * log_term


def a4_bracket(xa, xb):
    """Seed eq. A.4 curly bracket I(x_a, x_b) (exact, both charged-lepton masses), 0 below threshold.

    The logarithm arguments are rewritten without cancellation: with S = x_a^2 + x_b^2, D = x_b^2 - x_a^2,
    lambda^1/2 = sqrt((1-(x_b-x_a)^2)(1-(x_b+x_a)^2)),
    (S - D^2 - |D| lambda^1/2)/(2 x_a x_b) = 2 x_a x_b/(S - D^2 + |D| lambda^1/2) and
    (1 - S - lambda^1/2)/(2 x_a x_b) = 2 x_a x_b/(1 - S + lambda^1/2);
    for x_a or x_b = 0 the bracket is eq. A.3 of the other (the log(x_a x_b) terms cancel)."""
    xa, xb = float(xa), float(xb)
    if xa < 0 or xb < 0:
        raise ParameterError("lepton mass ratios must be >= 0")
    if xa + xb >= 1.0:
        return 0.0
    if xa == 0.0 or xb == 0.0:
        return float(a3_bracket(max(xa, xb)))
    a2, b2 = xa * xa, xb * xb
    S, D = a2 + b2, b2 - a2
    d = abs(D)
    lam = math.sqrt((1 - (xb - xa) ** 2) * (1 - (xb + xa) ** 2))
    l1 = math.log(2 * xa * xb / (S - D * D + d * lam))
    l2 = math.log(2 * xa * xb / (1 - S + lam))
    return (12 * d * S * l1 - 12 * (b2**2 + a2**2 - 2 * b2**2 * a2**2) * l2
            + lam * (1 - 7 * S * (1 + b2 * a2) - 7 * (b2**2 + a2**2) + 12 * b2 * a2 + b2**3 + a2**3))


def width_cc_lllnu(M, m_a, m_b):
    """Gamma(N -> l_a- l_b+ nu_b)/|U_a|^2 [MeV], a != b (seed eq. A.4)."""
    return _MU_DECAY * M**5 * a4_bracket(m_a / M, m_b / M)


def width_cc_lllnu_a3(M, m_a):
    """The massless-l_b approximation eq. A.3: Gamma/|U_a|^2 [MeV]."""
    return _MU_DECAY * M**5 * float(a3_bracket(m_a / M))


def nu_ll_bracket(x, gL, gR):
    """C1 F1(x) + 4 C2 F2(x) of N -> nu l- l+ (module docstring); 0 for 2x >= 1."""
    if 2 * x >= 1.0:
        return 0.0
    if x == 0.0:
        return gL**2 + gR**2
    x2 = x * x
    r = math.sqrt(1 - 4 * x2)
    # ln[(1 - 3x^2 - (1 - x^2) r)/(x^2 (1 + r))] with the numerator written as 4x^6/(1 - 3x^2 + (1 - x^2) r)
    L = math.log(4 * x2 * x2 / ((1 - 3 * x2 + (1 - x2) * r) * (1 + r)))
    F1 = (1 - 14 * x2 - 2 * x2**2 - 12 * x2**3) * r + 12 * x2**2 * (x2**2 - 1) * L
    F2 = x2 * (2 + 10 * x2 - 12 * x2**2) * r + 6 * x2**2 * (1 - 2 * x2 + 2 * x2**2) * L
    return (gL**2 + gR**2) * F1 + 4 * gL * gR * F2


def nc_couplings(alpha: str, beta: str) -> tuple[float, float]:
    """(g_L, g_R) of N -> nu_alpha l_beta- l_beta+ (CC adds 1 to g_L when alpha = beta)."""
    return -0.5 + S2W + (1.0 if alpha == beta else 0.0), S2W


def width_nu_ll(M, alpha: str, beta: str):
    """Gamma(N -> nu_alpha l_beta- l_beta+)/|U_alpha|^2 [MeV]."""
    gL, gR = nc_couplings(alpha, beta)
    return _MU_DECAY * M**5 * nu_ll_bracket(c.LEPTON_MASS[beta] / M, gL, gR)


def width_3nu(M):
    """sum_b Gamma(N -> nu_a nu_b nubar_b)/|U_a|^2 [MeV]."""
    return _MU_DECAY * M**5


def width_nu_gamma(M):
    """Gamma(N -> nu_a gamma)/|U_a|^2 [MeV] (one loop)."""
    return 9.0 * c.ALPHA_EM * c.G_FERMI**2 * M**5 / (512.0 * math.pi**4)


# ------------------------------------------------------------------------------------------------
# two-body
# ------------------------------------------------------------------------------------------------
def _smeared(fn, M, m_other, mes: Meson):
    """Narrow width, or for the broad vectors (rho, K*) the 2-body width averaged over the meson's invariant
    mass with a constant-width Breit-Wigner normalised on [s_thr, inf) (s_thr = (2 m_pi)^2 or
    (m_K + m_pi)^2): near threshold N -> l (pi pi) proceeds through the rho tail."""
    width = BROAD.get(mes.pdg)
    if width is None:
        return fn(M, mes.mass) if M > m_other + mes.mass else 0.0
    s_thr, gam = width
    s_max = (M - m_other) ** 2
    if s_max <= s_thr:
        return 0.0
    m2, mg = mes.mass**2, mes.mass * gam
    u_thr, u_max = math.atan((s_thr - m2) / mg), math.atan((s_max - m2) / mg)
    norm = 0.5 * math.pi - u_thr
    x, w = np.polynomial.legendre.leggauss(48)
    u = 0.5 * (u_max - u_thr) * x + 0.5 * (u_max + u_thr)
    vals = [fn(M, math.sqrt(m2 + mg * math.tan(ui))) for ui in u]
    return float(np.dot(w, vals) * 0.5 * (u_max - u_thr) / norm)


def width_l_meson(M, m_l, mes: Meson):
    """Gamma(N -> l- h+)/|U|^2 [MeV] for a charged pseudoscalar or vector meson; 0 below threshold."""
    return _smeared(lambda MM, mh: _width_l_meson(MM, m_l, mes, mh), M, m_l, mes)


def _width_l_meson(M, m_l, mes: Meson, m_h):
    if M <= m_l + m_h:
        return 0.0
    xl2, xh2 = (m_l / M) ** 2, (m_h / M) ** 2
    lam = float(_lam12(1.0, xh2, xl2))
    pref = c.G_FERMI**2 * mes.f**2 * mes.ckm**2 * M**3 / (16.0 * math.pi)
    if mes.kind == "P":
        return pref * ((1 - xl2) ** 2 - xh2 * (1 + xl2)) * lam
    return pref * ((1 - xl2) ** 2 + xh2 * (1 + xl2) - 2 * xh2**2) * lam


def width_nu_meson(M, mes: Meson):
    """Gamma(N -> nu h0)/|U|^2 [MeV]; 0 below threshold (rho0 Breit-Wigner averaged, see _smeared)."""
    return _smeared(lambda MM, mh: _width_nu_meson(MM, mes, mh), M, 0.0, mes)


def _width_nu_meson(M, mes: Meson, m_h):
    if M <= m_h:
        return 0.0
    x2 = (m_h / M) ** 2
    if mes.kind == "P":
        return c.G_FERMI**2 * mes.f**2 * M**3 / (32.0 * math.pi) * (1 - x2) ** 2
    return c.G_FERMI**2 * mes.kappa**2 * mes.f**2 * M**3 / (16.0 * math.pi) * (1 + 2 * x2) * (1 - x2) ** 2


def width_nu_s(M, m_s, g_s, sum_U2):
    """Gamma(N -> nu s) [MeV] summed over the light flavours (coupling g_s s Nbar N, mixing sum |U|^2)."""
    if M <= m_s:
        return 0.0
    return g_s**2 * sum_U2 * M * (1 - (m_s / M) ** 2) ** 2 / (32.0 * math.pi)


# ------------------------------------------------------------------------------------------------
# the channel table of one HNL
# ------------------------------------------------------------------------------------------------
#: PDG-like codes nudmsim uses for the new particles in event records (not standard PDG numbers)
PDG_SINGLET = 9900025
PDG_CHI, PDG_PHI = 9900012, 9900035

CATEGORIES = ("nu gamma", "3 nu", "nu l+ l-", "l- l'+ nu", "nu h0", "l- h+", "nu s", "dark")


@dataclass(frozen=True)
class Channel:
    """One decay channel: ``width`` [MeV], daughters ``pdg``/``masses`` in the order the generator uses,
    ``kind`` 2body | nll (nu l- l+) | cc (l_a- l_b+ nu_b) | invisible, ``gl_gr`` for nll."""

    name: str
    category: str
    width: float
    pdg: tuple
    masses: tuple
    kind: str
    visible: bool
    gl_gr: tuple = (0.0, 0.0)


@dataclass(frozen=True)
class HNL:
    """A Dirac HNL of mass ``M`` [MeV] with |U_l|^2 = ``U2_e``, ``U2_mu``, ``U2_tau``; optional singlet
    coupling g_s with mass m_s [MeV] (N -> nu s, seed 003) and an extra invisible width ``dark_width`` [MeV]
    (e.g. nu4 -> chi phi* of the neutrino portal).  ``majorana=True`` doubles every width."""

    M: float
    U2_e: float = 0.0
    U2_mu: float = 0.0
    U2_tau: float = 0.0
    g_s: float = 0.0
    m_s: float = 0.0
    dark_width: float = 0.0
    majorana: bool = False
    s_visible: bool = False

    def __post_init__(self):
        for k in ("M", "U2_e", "U2_mu", "U2_tau", "g_s", "m_s", "dark_width"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v)) or v < 0:
                raise ParameterError(f"HNL: {k} = {v!r} must be a finite number >= 0")
        if self.M <= 0:
            raise ParameterError(f"HNL: mass M = {self.M} MeV must be > 0")
        if self.U2_e + self.U2_mu + self.U2_tau > 1.0:
            raise ParameterError("HNL: sum |U_l|^2 > 1 (give squared mixings, each <= 1)")

    def U2(self, flavour: str) -> float:
        return {"e": self.U2_e, "mu": self.U2_mu, "tau": self.U2_tau}[flavour]

    @property
    def sum_U2(self) -> float:
        return self.U2_e + self.U2_mu + self.U2_tau

    def channels(self) -> list[Channel]:
        """All open channels with non-zero width."""
        return [ch for ch in _channels(self) if ch.width > 0]

    def total_width(self) -> float:
        """Total width [MeV]."""
        return float(sum(ch.width for ch in self.channels()))

    def lifetime(self) -> float:
        """Proper lifetime [ns] (hbar / Gamma); inf without any open channel."""
        g = self.total_width()
        return c.HBAR / g if g > 0 else math.inf

    def decay_length(self, energy) -> np.ndarray:
        """Mean lab decay length beta gamma c tau [mm] at lab energy ``energy`` [MeV] (>= M)."""
        E = np.asarray(energy, float)
        if np.any(E < self.M):
            raise ParameterError(f"HNL energy {E.min():g} MeV is below its mass M = {self.M:g} MeV")
        return np.sqrt(E * E - self.M**2) / self.M * c.C_LIGHT * self.lifetime()

    def branching_ratios(self, by: str = "category") -> dict[str, float]:
        """Branching ratios summed per ``category`` (see CATEGORIES) or per channel ``name``."""
        chans = self.channels()
        tot = sum(ch.width for ch in chans)
        out: dict[str, float] = {}
        for ch in chans:
            key = ch.category if by == "category" else ch.name
            out[key] = out.get(key, 0.0) + ch.width / tot
        return out


def _channels(h: HNL) -> list[Channel]:
    M, k = h.M, (2.0 if h.majorana else 1.0)
    out = []
    for a in FLAVOURS:
        u2 = h.U2(a)
        if u2 == 0.0:
            continue
        ma, nua, la = c.LEPTON_MASS[a], NU_PDG[a], LEPTON_PDG[a]
        out.append(Channel(f"nu_{a} gamma", "nu gamma", k * u2 * width_nu_gamma(M), (nua, 22), (0.0, 0.0),
                           "2body", True))
        out.append(Channel(f"nu_{a} nu nubar", "3 nu", k * u2 * width_3nu(M), (nua, 12, -12), (0.0, 0.0, 0.0),
                           "invisible", False))
        for b in FLAVOURS:
            mb = c.LEPTON_MASS[b]
            out.append(Channel(f"nu_{a} {b}- {b}+", "nu l+ l-", k * u2 * width_nu_ll(M, a, b) if M > 2 * mb else 0.0,
                               (nua, LEPTON_PDG[b], -LEPTON_PDG[b]), (0.0, mb, mb), "nll", True,
                               nc_couplings(a, b)))
            if b != a:
                w = k * u2 * width_cc_lllnu(M, ma, mb) if M > ma + mb else 0.0
                out.append(Channel(f"{a}- {b}+ nu_{b}", "l- l'+ nu", w, (la, -LEPTON_PDG[b], NU_PDG[b]),
                                   (ma, mb, 0.0), "cc", True))
        for mes in CHARGED_MESONS:
            out.append(Channel(f"{a}- {mes.name}", "l- h+", k * u2 * width_l_meson(M, ma, mes), (la, mes.pdg),
                               (ma, mes.mass), "2body", True))
        for mes in NEUTRAL_MESONS:
            out.append(Channel(f"nu_{a} {mes.name}", "nu h0", k * u2 * width_nu_meson(M, mes), (nua, mes.pdg),
                               (0.0, mes.mass), "2body", True))
    if h.g_s > 0 and h.sum_U2 > 0:
        out.append(Channel("nu s", "nu s", k * width_nu_s(M, h.m_s, h.g_s, h.sum_U2), (12, PDG_SINGLET),
                           (0.0, h.m_s), "2body", h.s_visible))
    if h.dark_width > 0:
        out.append(Channel("chi phi*", "dark", h.dark_width, (PDG_CHI, -PDG_PHI), (0.0, 0.0), "invisible", False))
    return out


def hnl_from_neutrino_portal(model, majorana: bool = False) -> HNL:
    """The nu4 of a :class:`nudmsim.models.neutrino_portal.NeutrinoPortal` point as an :class:`HNL`
    (mixings U_l4, the dark width Gamma(nu4 -> chi phi*) added as an invisible channel)."""
    return HNL(model.m4, model.U_e4**2, model.U_mu4**2, model.U_tau4**2,
               dark_width=model.width_nu4_to_chi_phi(), majorana=majorana)
