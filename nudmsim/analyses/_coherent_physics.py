"""COHERENT physics engine (private helper of ``nudmsim.analyses.coherent``).

Builds, from a detector card of kind "coherent", the SNS source, the nuclear targets and the detector
response; computes recoil spectra by quadrature (composite Gauss-Legendre in E_R, Gauss-Legendre in E_nu)
and deterministic PE x time templates; and generates weighted events by importance sampling the recoil
spectrum tabulated on fine cells.  All energies in MeV internally (hepunits).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import constants as c
from .. import formfactors, targets
from ..errors import ParameterError
from ..models import scalar_portal
from ..processes import cevns, nu_to_x
from ..response import efficiency, quenching
from ..sources import sns

PROCESS_IDS = {"cevns": 10, "nu-to-x": 11}
_GL_ER = np.polynomial.legendre.leggauss(8)
_GL_ENU = np.polynomial.legendre.leggauss(24)


# ------------------------------------------------------------------------------------------------
# detector setup from the card
# ------------------------------------------------------------------------------------------------
@dataclass
class Setup:
    card: object
    source: sns.SNSSource
    nuclei: list
    n_targets: np.ndarray            # number of nuclei of each isotope in the detector
    form_factor: str
    light_yield: float               # PE / keVee
    quenching: object
    qf_constant_error: float
    acceptance: efficiency.Acceptance
    pe_edges: np.ndarray
    t_edges: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def pe_fine_edges(self) -> np.ndarray:
        return self.acceptance.fine_bins(self.pe_edges[0], self.pe_edges[-1])


MAX_BINS = 100_000   # per analysis axis: a card with more is a typo (memory), not an analysis


def _edges(card, lo_key, hi_key, w_key) -> np.ndarray:
    lo, hi = card.number(lo_key), card.number(hi_key)
    w = card.number(w_key, positive=True)
    if hi <= lo:
        raise card.error(hi_key, f"must be > {lo_key.split('.')[-1]} ({lo})")
    n = (hi - lo) / w
    if not 1 <= round(n) <= MAX_BINS:
        raise card.error(w_key, f"gives {n:.4g} bins on {lo:g}-{hi:g}", f"choose a width giving 1 to {MAX_BINS} bins")
    if abs(n - round(n)) > 1e-9:
        raise card.error(w_key, f"({w}) must divide {hi_key.split('.')[-1]} - {lo_key.split('.')[-1]} = {hi - lo}")
    return lo + w * np.arange(int(round(n)) + 1)


@lru_cache(maxsize=16)
def _setup_cached(path: str, sha: str):
    from .. import cards

    return _build_setup(cards.load_detector(path))


def setup(card) -> Setup:
    """Validated COHERENT setup for ``card`` (cached on the card file's content hash)."""
    return _setup_cached(str(card.path), card.sha256)


def _build_setup(card) -> Setup:
    from ..errors import NudmsimError

    kind = card.get("card.kind", str)
    if kind != "coherent":
        raise card.error("card.kind", f"is '{kind}'", "the COHERENT analysis needs a card of kind 'coherent'")
    src = sns.from_detector_card(card)
    if card.has("target.material"):
        # a formula or a table of element/isotope counts: natural elements expanded with their abundances
        mat = targets.material(card.get("target.material", (str, dict)))
        nuclei, per_mol = mat.isotopes, mat.per_formula
    else:
        names = card.get("target.isotopes", list)
        per_mol = card.array("target.atoms_per_molecule", ndim=1, length=len(names))
        if np.any(per_mol <= 0):
            raise card.error("target.atoms_per_molecule", "entries must be > 0")
        nuclei = []
        for nm in names:
            if not isinstance(nm, str):
                raise card.error("target.isotopes", f"entry {nm!r} is not a string", "write e.g. \"Cs133\"")
            try:
                nuclei.append(targets.isotope(nm))
            except NudmsimError as exc:
                raise card.error("target.isotopes", str(exc)) from None
    mass = card.number("target.mass_kg", positive=True) * c.kg
    molecule_mass = sum(k * (n.mass + n.Z * c.M_ELECTRON) for k, n in zip(per_mol, nuclei))
    # hepunits: kg is in MeV ns^2/mm^2, nuclear masses are rest energies in MeV: N = M c^2 / (m c^2)
    n_mol = (mass * c.C_LIGHT**2) / molecule_mass
    ff = card.get("target.form_factor", str, choices=tuple(formfactors.FORM_FACTORS))
    ly = card.number("response.light_yield_PE_per_keVee", positive=True)
    q = quenching.from_card(card)
    qerr = card.number("response.quenching.constant_error", nonnegative=True)
    acc = efficiency.from_card(card)
    pe_edges = _edges(card, "binning.pe_min", "binning.pe_max", "binning.pe_width")
    if pe_edges[0] < 0:
        raise card.error("binning.pe_min", "must be >= 0")
    t_edges = _edges(card, "binning.t_min_us", "binning.t_max_us", "binning.t_width_us")
    w_fine = acc.eval_bin_width
    if w_fine != 1.0:
        raise card.error("response.acceptance.evaluate_on_bins_of_PE", f"is {w_fine}",
                         "Poisson photostatistics are tabulated in 1-PE bins: use 1.0")
    ratio = (pe_edges[1] - pe_edges[0]) / w_fine
    if abs(ratio - round(ratio)) > 1e-9 or abs(pe_edges[0] - round(pe_edges[0])) > 1e-9:
        raise card.error("binning.pe_width", "must be a multiple of the acceptance evaluation bins and start at an integer PE")
    card.get("response.photostatistics", str, choices=("poisson",))
    return Setup(card, src, nuclei, per_mol * n_mol, ff, ly, q, qerr, acc, pe_edges, t_edges,
                 {"n_molecules": n_mol})


# ------------------------------------------------------------------------------------------------
# cross sections per process
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Xsec:
    """Cross section of one process on one nucleus: dsigma/dE_R without form factor, and its kinematics."""

    process: str
    nucleus: object
    params: tuple = ()

    def p(self):
        return dict(self.params)

    def dsigma(self, e_nu, e_r):
        N = self.nucleus
        if self.process == "cevns":
            return cevns.dsigma_dT_noff(e_nu, e_r, N.Z, N.N, N.mass)
        p = self.p()
        y_p, y_n = scalar_portal.nucleon_couplings(p["y_q"])
        y_N = scalar_portal.nucleus_coupling(y_p, y_n, N.Z, N.A)
        return nu_to_x.dsigma_dER_noff(e_nu, e_r, p["y_X"], y_N, p["m_X"], p["m_phi"], N.mass)

    def e_nu_min(self, e_r):
        if self.process == "cevns":
            return cevns.e_nu_min(e_r, self.nucleus.mass)
        return nu_to_x.e_nu_min(e_r, self.p()["m_X"], self.nucleus.mass)

    def er_range(self, e_nu):
        """(lo, hi) recoil range at e_nu (NaN below threshold)."""
        if self.process == "cevns":
            return np.zeros_like(np.asarray(e_nu, float)), cevns.t_max(e_nu, self.nucleus.mass)
        return nu_to_x.recoil_range(e_nu, self.p()["m_X"], self.nucleus.mass)

    def threshold(self) -> float:
        if self.process == "cevns":
            return 0.0
        return float(nu_to_x.threshold(self.p()["m_X"], self.nucleus.mass))


def check_params(process: str, params: dict, st: Setup) -> None:
    """ParameterError when the model point is unphysical or outside the SNS kinematic reach."""
    if process == "cevns":
        return
    for k in ("m_X", "m_phi"):
        v = params[k]
        if not np.isfinite(v) or v <= 0:
            raise ParameterError(f"{process}: {k} = {v} MeV must be finite and > 0")
    for k in ("y_X", "y_q"):
        if not np.isfinite(params[k]) or params[k] < 0:
            raise ParameterError(f"{process}: {k} = {params[k]} must be finite and >= 0")
    heaviest = max(st.nuclei, key=lambda n: n.mass)
    reach = _mx_reach(heaviest.mass)
    if params["m_X"] >= reach:
        raise ParameterError(
            f"{process}: m_X = {params['m_X']:g} MeV is above the SNS kinematic reach: the highest DAR neutrino "
            f"energy is m_mu/2 = {sns.E_MAX:.2f} MeV, so nu + {heaviest.name} -> X + {heaviest.name} needs "
            f"m_X < {reach:.2f} MeV (threshold E_nu >= m_X + m_X^2/2m_N)")


def _mx_reach(m_N: float) -> float:
    """Largest m_X with threshold m_X + m_X^2/(2 m_N) <= E_MAX: m_N (sqrt(1 + 2 E_MAX/m_N) - 1)."""
    return m_N * (np.sqrt(1.0 + 2.0 * sns.E_MAX / m_N) - 1.0)


def xsecs(process: str, params: dict, st: Setup) -> list[Xsec]:
    if process not in PROCESS_IDS:
        raise ParameterError(f"unknown COHERENT process '{process}' (known: {', '.join(PROCESS_IDS)})")
    check_params(process, params, st)
    keep = () if process == "cevns" else tuple(sorted((k, float(params[k])) for k in ("m_X", "m_phi", "y_X", "y_q")))
    return [Xsec(process, n, keep) for n in st.nuclei]


# ------------------------------------------------------------------------------------------------
# recoil spectra by quadrature
# ------------------------------------------------------------------------------------------------
def _rate_density(xs: Xsec, flavour: int, e_r: np.ndarray, fluence_nt: float, F2: np.ndarray) -> np.ndarray:
    """dN/dE_R (events per MeV in the exposure) for one flavour on one isotope at recoil energies e_r."""
    if sns.is_prompt(flavour):
        return fluence_nt * xs.dsigma(sns.PROMPT_ENERGY, e_r) * F2
    x, w = _GL_ENU
    emin = np.clip(xs.e_nu_min(e_r), 0.0, sns.E_MAX)
    half = 0.5 * (sns.E_MAX - emin)
    e_nu = emin[:, None] + half[:, None] * (x[None, :] + 1.0)
    integ = sns.michel_pdf(flavour, e_nu) * xs.dsigma(e_nu, e_r[:, None])
    return fluence_nt * (integ @ w) * half * F2


def _er_limits(xs: Xsec, flavour: int) -> tuple[float, float]:
    e_top = sns.PROMPT_ENERGY if sns.is_prompt(flavour) else sns.E_MAX
    if e_top <= xs.threshold():
        return 0.0, 0.0
    lo, hi = xs.er_range(np.array(e_top))
    if not sns.is_prompt(flavour):
        lo = np.array(0.0) if xs.process == "cevns" else lo
    return float(lo), float(hi)


def _panels(lo: float, hi: float, n: int = 48) -> np.ndarray:
    """Panel edges from lo to hi, logarithmic (recoil spectra are steep at low E_R)."""
    start = max(lo, hi * 1e-7)
    inner = np.geomspace(start, hi, n)
    return np.unique(np.concatenate([[lo], inner])) if lo < start else inner


def recoil_nodes(xs: Xsec, flavour: int, st: Setup, fluence_nt: float, n_panels: int = 48):
    """Gauss-Legendre nodes, weights and dN/dE_R of one (flavour, isotope) spectrum (quadrature of the rate)."""
    lo, hi = _er_limits(xs, flavour)
    if hi <= lo:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    edges = _panels(lo, hi, n_panels)
    x, w = _GL_ER
    a, b = edges[:-1, None], edges[1:, None]
    nodes = (0.5 * (a + b) + 0.5 * (b - a) * x[None, :]).ravel()
    weights = (0.5 * (b - a) * w[None, :]).ravel()
    F2 = formfactors.form_factor_sq_recoil(nodes, xs.nucleus.mass, xs.nucleus.A, st.form_factor)
    return nodes, weights, _rate_density(xs, flavour, nodes, fluence_nt, F2)


def spectra(process: str, params: dict, st: Setup):
    """{(flavour, isotope index): (nodes, weights, dN/dE_R)} for all flavours and isotopes."""
    out = {}
    phi = st.source.fluence * c.HBARC**2        # per mm^2 -> per MeV^-2 (cross sections are in MeV^-2)
    for i, xs in enumerate(xsecs(process, params, st)):
        for f in range(3):
            out[(f, i)] = recoil_nodes(xs, f, st, phi * st.n_targets[i])
    return out


def total_events(process: str, params: dict, st: Setup) -> dict:
    """Expected interactions in the exposure per (flavour, isotope) and in total (no detector response)."""
    sp = spectra(process, params, st)
    per = {k: float(np.sum(w * r)) for k, (n, w, r) in sp.items()}
    return {"per": per, "total": float(sum(per.values()))}


# ------------------------------------------------------------------------------------------------
# deterministic PE x time template
# ------------------------------------------------------------------------------------------------
def pe_spectrum_fine(process: str, params: dict, st: Setup, qmodel=None, sp=None):
    """Expected counts in the 1-PE evaluation bins before acceptance, separately for prompt and delayed."""
    qmodel = qmodel or st.quenching
    sp = sp if sp is not None else spectra(process, params, st)
    fine = st.pe_fine_edges
    out = {True: np.zeros(len(fine) - 1), False: np.zeros(len(fine) - 1)}
    from ..response.photostatistics import mean_pe, pe_bin_matrix

    for (f, i), (nodes, w, r) in sp.items():
        if len(nodes) == 0:
            continue
        mu = mean_pe(qmodel.e_ee(nodes), st.light_yield)
        P = pe_bin_matrix(mu, fine)
        out[sns.is_prompt(f)] += (w * r) @ P
    return out


def template(process: str, params: dict, st: Setup, qmodel=None, acceptance_params=None) -> dict:
    """Expected counts in the release binning (PE x time), before and after the nominal acceptance."""
    fine = st.pe_fine_edges
    spec = pe_spectrum_fine(process, params, st, qmodel)
    centres = 0.5 * (fine[:-1] + fine[1:])
    acc_fine = st.acceptance(centres, **(acceptance_params or {}))
    group = int(round((st.pe_edges[1] - st.pe_edges[0]) / st.acceptance.eval_bin_width))
    raw = np.zeros((len(st.pe_edges) - 1, len(st.t_edges) - 1))
    acc2d = np.zeros_like(raw)
    for prompt, s in spec.items():
        tp = st.source.timing.bin_probabilities(st.t_edges, prompt)
        raw += np.outer(s.reshape(-1, group).sum(1), tp)
        acc2d += np.outer((s * acc_fine).reshape(-1, group).sum(1), tp)
    raw_pe = raw.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc_eff = np.where(raw_pe > 0, acc2d.sum(1) / raw_pe, acc_fine.reshape(-1, group).mean(1))
    return {"raw": raw, "accepted": acc2d, "pe_edges": st.pe_edges.copy(), "t_edges": st.t_edges.copy(),
            "acceptance": acc_eff, "acceptance_fine": acc_fine, "pe_fine_edges": fine}
