"""Spallation Neutron Source (SNS) pi+ decay-at-rest neutrino source.

Spectra (analytic, normalised to 1 per flavour; energies in MeV):

* prompt nu_mu from pi+ -> mu+ nu_mu at rest: a line at E_0 = (m_pi^2 - m_mu^2) / (2 m_pi) = 29.79 MeV;
* delayed nu_e and anti-nu_mu from mu+ -> e+ nu_e anti-nu_mu at rest (Michel spectra, x = E/m_mu <= 1/2):
  dN/dE(nu_e) = (192/m_mu) x^2 (1/2 - x),  dN/dE(anti-nu_mu) = (64/m_mu) x^2 (3/4 - x).

Normalisation: N_POT = E_beam / T_p (integrated beam energy over the proton kinetic energy), r neutrinos
of each flavour per proton, emitted isotropically, so the time-integrated fluence per flavour at baseline L
is  Phi = r N_POT / (4 pi L^2)  [per mm^2 in hepunits; ``/ constants.cm**2`` gives per cm^2].

Timing: either the released COHERENT arrival-time PDFs (binned, 0.5 us) or a physical model (Gaussian
proton pulse folded with the pi+ lifetime for the prompt flavour, and the pi+ and mu+ lifetimes for the
delayed flavours), selected by the source card ``fluxes/sns.toml`` ``[timing].model``.

Flavour ids used in event files: 0 = nu_mu (prompt), 1 = nu_e, 2 = anti-nu_mu (delayed).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import cards
from .. import constants as c
from ..errors import NudmsimError

NU_MU, NU_E, NU_MU_BAR = 0, 1, 2
FLAVOURS = ("nu_mu", "nu_e", "nu_mu_bar")
PROMPT_FLAVOURS = (NU_MU,)
DELAYED_FLAVOURS = (NU_E, NU_MU_BAR)

#: prompt nu_mu energy (MeV): (m_pi^2 - m_mu^2)/(2 m_pi) = 29.79 MeV
PROMPT_ENERGY = (c.M_PION**2 - c.M_MUON**2) / (2.0 * c.M_PION)
#: endpoint of the Michel spectra (MeV) = m_mu/2 = 52.83 MeV; the highest SNS DAR neutrino energy
E_MAX = 0.5 * c.M_MUON


def is_prompt(flavour: int) -> bool:
    return flavour in PROMPT_FLAVOURS


# ------------------------------------------------------------------------------------------------
# spectra
# ------------------------------------------------------------------------------------------------
def michel_pdf(flavour: int, energy) -> np.ndarray:
    """dN/dE [1/MeV] of a delayed flavour (NU_E or NU_MU_BAR), normalised to 1 on [0, m_mu/2]."""
    x = np.asarray(energy, dtype=float) / c.M_MUON
    inside = (x >= 0) & (x <= 0.5)
    if flavour == NU_E:
        f = 192.0 * x**2 * (0.5 - x)
    elif flavour == NU_MU_BAR:
        f = 64.0 * x**2 * (0.75 - x)
    else:
        raise NudmsimError(f"flavour {flavour} has no Michel spectrum (use {NU_E} or {NU_MU_BAR})")
    return np.where(inside, f, 0.0) / c.M_MUON


def michel_cdf(flavour: int, energy) -> np.ndarray:
    """P(E_nu < energy) for a delayed flavour (closed form of the integral of :func:`michel_pdf`)."""
    x = np.clip(np.asarray(energy, dtype=float) / c.M_MUON, 0.0, 0.5)
    if flavour == NU_E:
        return 192.0 * (x**3 / 6.0 - x**4 / 4.0)
    if flavour == NU_MU_BAR:
        return 64.0 * (x**3 / 4.0 - x**4 / 4.0)
    raise NudmsimError(f"flavour {flavour} has no Michel spectrum (use {NU_E} or {NU_MU_BAR})")


_INV_GRID = 4096


class _InverseCDF:
    """Inverse CDF of a Michel spectrum by table lookup plus one Newton step (|CDF(E) - u| < 1e-9)."""

    def __init__(self, flavour: int):
        self.flavour = flavour
        # the CDF ~ x^3 near 0: tabulate on a grid uniform in u^(1/3) for accuracy at small E
        s = np.linspace(0.0, 1.0, _INV_GRID)
        self.e = 0.5 * c.M_MUON * s
        self.u = michel_cdf(flavour, self.e)

    def __call__(self, u) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        e = np.interp(u, self.u, self.e)
        # one Newton step on CDF(e) = u (pdf > 0 inside (0, E_MAX) except at the nu_e endpoint)
        pdf = michel_pdf(self.flavour, e)
        ok = pdf > 1e-12
        e = np.where(ok, e - (michel_cdf(self.flavour, e) - u) / np.where(ok, pdf, 1.0), e)
        return np.clip(e, 0.0, E_MAX)


_INVERSE = {}


def michel_inverse_cdf(flavour: int, u) -> np.ndarray:
    """E_nu with P(E < E_nu) = u for a delayed flavour (vectorised)."""
    if flavour not in _INVERSE:
        _INVERSE[flavour] = _InverseCDF(flavour)
    return _INVERSE[flavour](u)


# ------------------------------------------------------------------------------------------------
# normalisation
# ------------------------------------------------------------------------------------------------
def protons_on_target(beam_energy, proton_kinetic_energy) -> float:
    """N_POT = integrated beam energy / proton kinetic energy (both in MeV, e.g. ``7.48 * constants.GWH``)."""
    if not (beam_energy >= 0 and proton_kinetic_energy > 0):
        raise NudmsimError("beam energy must be >= 0 and proton kinetic energy > 0")
    return float(beam_energy / proton_kinetic_energy)


def fluence_per_flavour(n_pot: float, nu_per_flavour_per_proton: float, baseline: float) -> float:
    """Time-integrated neutrino fluence per flavour at ``baseline`` (mm): r N_POT / (4 pi L^2) per mm^2."""
    return nu_per_flavour_per_proton * n_pot / (4.0 * np.pi * baseline**2)


# ------------------------------------------------------------------------------------------------
# timing
# ------------------------------------------------------------------------------------------------
def _emg_cdf(t, mu, sigma, tau):
    """CDF of a Gaussian(mu, sigma) folded with an exponential of mean tau (exponentially modified Gaussian)."""
    from scipy.stats import exponnorm

    return exponnorm.cdf(t, tau / sigma, loc=mu, scale=sigma)


@dataclass
class Timing:
    """Arrival-time model.  Times in microseconds (the unit of the released PDFs and of the data)."""

    model: str
    pdf_edges_us: np.ndarray | None = None      # released PDF bin edges
    pdf_prompt: np.ndarray | None = None        # per-bin probabilities
    pdf_delayed: np.ndarray | None = None
    pulse_sigma_us: float = 0.15
    offset_us: float = 0.75

    def _released(self, prompt: bool) -> np.ndarray:
        return self.pdf_prompt if prompt else self.pdf_delayed

    def cdf(self, t_us, prompt: bool) -> np.ndarray:
        """P(arrival time < t) for the prompt or delayed flavours."""
        t = np.asarray(t_us, dtype=float)
        if self.model == "released_pdf":
            p = self._released(prompt)
            cum = np.concatenate([[0.0], np.cumsum(p)])
            return np.interp(t, self.pdf_edges_us, cum, left=0.0, right=cum[-1])
        tau_mu = c.TAU_MUON / (1000.0 * c.ns)
        tau_pi = c.TAU_PION / (1000.0 * c.ns)
        mu, sig = self.offset_us, self.pulse_sigma_us
        if prompt:
            return _emg_cdf(t, mu, sig, tau_pi)
        # pi then mu decay: hypoexponential = (tau_mu E(tau_mu) - tau_pi E(tau_pi)) / (tau_mu - tau_pi)
        return (tau_mu * _emg_cdf(t, mu, sig, tau_mu) - tau_pi * _emg_cdf(t, mu, sig, tau_pi)) / (tau_mu - tau_pi)

    def bin_probabilities(self, t_edges_us, prompt: bool) -> np.ndarray:
        """Probability of arriving in each bin of ``t_edges_us`` (sums to < 1 if the bins do not cover all)."""
        return np.diff(self.cdf(np.asarray(t_edges_us, dtype=float), prompt))

    def sample(self, prompt_mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Arrival times (us) for events whose flavour is prompt (mask True) or delayed (False)."""
        n = len(prompt_mask)
        if self.model == "released_pdf":
            t = np.empty(n)
            width = np.diff(self.pdf_edges_us)
            u = rng.random(n)
            v = rng.random(n)
            for prompt in (True, False):
                sel = prompt_mask if prompt else ~prompt_mask
                cum = np.cumsum(self._released(prompt))
                cum = cum / cum[-1]
                j = np.minimum(np.searchsorted(cum, u[sel], side="right"), len(cum) - 1)
                t[sel] = self.pdf_edges_us[j] + v[sel] * width[j]
            return t
        tau_mu = c.TAU_MUON / (1000.0 * c.ns)
        tau_pi = c.TAU_PION / (1000.0 * c.ns)
        t = self.offset_us + self.pulse_sigma_us * rng.standard_normal(n) + rng.exponential(tau_pi, n)
        t += np.where(prompt_mask, 0.0, rng.exponential(tau_mu, n))
        return t


# ------------------------------------------------------------------------------------------------
# the source as configured by a detector card
# ------------------------------------------------------------------------------------------------
@dataclass
class SNSSource:
    """An SNS DAR source seen from one detector.  Energies in MeV, lengths in mm (hepunits)."""

    beam_energy: float                 # integrated beam energy [MeV]
    proton_kinetic_energy: float       # [MeV]
    nu_per_flavour_per_proton: float
    baseline: float                    # [mm]
    timing: Timing
    nu_per_flavour_per_proton_rel_error: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def n_pot(self) -> float:
        return protons_on_target(self.beam_energy, self.proton_kinetic_energy)

    @property
    def fluence(self) -> float:
        """Neutrinos per flavour per mm^2 at the detector, integrated over the exposure."""
        return fluence_per_flavour(self.n_pot, self.nu_per_flavour_per_proton, self.baseline)

    def spectrum(self, flavour: int, energy) -> np.ndarray:
        """dN/dE [1/MeV] normalised to 1 (delayed flavours only; the prompt flavour is a line at PROMPT_ENERGY)."""
        return michel_pdf(flavour, energy)


def load_timing(src: cards.Card, model: str | None = None) -> Timing:
    """Timing model of a source card (``model`` overrides the card's ``timing.model``)."""
    model = model or src.get("timing.model", str, choices=("released_pdf", "physical"))
    if model == "released_pdf":
        from ..response.tables import read_csv_table

        path = src.relative_file("timing.pdf_file")
        tab = read_csv_table(path)
        for col in ("t_us", "pdf_prompt_nu", "pdf_delayed_nu"):
            if col not in tab:
                raise src.error("timing.pdf_file", f"file {path.name} has no column '{col}'")
        centres = tab["t_us"]
        width = np.diff(centres)
        if not np.allclose(width, width[0]):
            raise src.error("timing.pdf_file", f"file {path.name} must have equal-width time bins")
        for col in ("pdf_prompt_nu", "pdf_delayed_nu"):
            v = tab[col]
            if not np.all(np.isfinite(v)) or np.any(v < 0) or not v.sum() > 0:
                bad = "NaN or inf" if not np.all(np.isfinite(v)) else ("negative" if np.any(v < 0) else "all zero")
                raise src.error("timing.pdf_file", f"file {path.name} column '{col}' has {bad} entries",
                                "a probability density must be finite, >= 0 and not all zero")
        if not np.all(np.isfinite(centres)) or np.any(width <= 0):
            raise src.error("timing.pdf_file", f"file {path.name}: column 't_us' must be finite and increasing")
        edges = np.concatenate([centres - 0.5 * width[0], [centres[-1] + 0.5 * width[0]]])
        return Timing("released_pdf", edges, tab["pdf_prompt_nu"] / tab["pdf_prompt_nu"].sum(),
                      tab["pdf_delayed_nu"] / tab["pdf_delayed_nu"].sum())
    fwhm_ns = src.number("timing.pulse_fwhm_ns", positive=True)
    return Timing("physical", pulse_sigma_us=fwhm_ns / 1000.0 / (2.0 * np.sqrt(2.0 * np.log(2.0))),
                  offset_us=src.number("timing.offset_us"))


def from_detector_card(card: cards.Card) -> SNSSource:
    """The SNS source as a detector card configures it (``[source]`` table), validated on load.

    Keys: ``source.card`` (name of the source card, e.g. "sns"), ``source.beam_energy_GWh``,
    ``source.baseline_m``, ``source.nu_per_flavour_per_proton`` (+ ``_rel_error``), optional
    ``source.proton_kinetic_energy_GeV`` overriding the source card's ``beam.proton_kinetic_energy_GeV`` and
    optional ``source.timing_model`` ("released_pdf" or "physical") overriding ``timing.model``."""
    src = cards.load_source(card.get("source.card", str))
    kind = src.get("card.kind", str)
    if kind != "pi_dar":
        raise card.error("source.card", f"names source '{src.name}' of kind '{kind}'", "use a pi_dar source such as 'sns'")
    tp = card.number("source.proton_kinetic_energy_GeV", default=None, positive=True)
    if tp is None:
        tp = src.number("beam.proton_kinetic_energy_GeV", positive=True)
    return SNSSource(
        beam_energy=card.number("source.beam_energy_GWh", nonnegative=True) * c.GWH,
        proton_kinetic_energy=tp * c.GeV,
        nu_per_flavour_per_proton=card.number("source.nu_per_flavour_per_proton", positive=True),
        baseline=card.number("source.baseline_m", positive=True) * c.m,
        timing=load_timing(src, card.get("source.timing_model", str, default=None,
                                         choices=(None, "released_pdf", "physical"))),
        nu_per_flavour_per_proton_rel_error=card.number("source.nu_per_flavour_per_proton_rel_error",
                                                        default=0.0, nonnegative=True),
        info={"source_card": src.name, "source_sha256": src.sha256},
    )
