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

import math

from dataclasses import dataclass, field

import numpy as np

from .. import cards
from .. import constants as c
from ..errors import NudmsimError
from numba import prange

from ..response.kernelkit import dual_kernel
from ..response.rngkernels import next_uniform, normal_draw, row_state

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
    return nu_per_flavour_per_proton * n_pot / (4.0 * np.pi) / baseline / baseline   # no overflow for huge L


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
        """Arrival times (us) for events whose flavour is prompt (mask True) or delayed (False).

        A numba kernel on counter-based streams (nudmsim.response.rngkernels): event i's time depends only
        on (key, i), for any thread count.  released_pdf: a bin drawn by inverse CDF, uniform inside it;
        physical: Gaussian pulse + pi decay (+ mu decay for delayed flavours)."""
        from ..response.rngkernels import new_key

        mask = np.ascontiguousarray(prompt_mask, dtype=np.bool_)
        out = np.empty(len(mask))
        key = new_key(rng)
        if self.model == "released_pdf":
            cp = np.cumsum(self.pdf_prompt)
            cd = np.cumsum(self.pdf_delayed)
            _sample_released(len(mask), key, mask, self.pdf_edges_us, cp / cp[-1], cd / cd[-1], out)
        else:
            _sample_physical(len(mask), key, mask, self.offset_us, self.pulse_sigma_us,
                             c.TAU_PION / (1000.0 * c.ns), c.TAU_MUON / (1000.0 * c.ns), out)
        return out


# Module-level kernels (not closures: numba caches a closure's compilation under a key that changes every run,
# so a closure recompiled on every start-up, ~4 s).
def _sample_released(key, mask, edges, cum_p, cum_d, out):
    for i in prange(mask.shape[0]):
        s = row_state(key, i)
        u, s = next_uniform(s)
        v, s = next_uniform(s)
        cum = cum_p if mask[i] else cum_d
        j = np.searchsorted(cum, u, side="right")
        if j > cum.shape[0] - 1:
            j = cum.shape[0] - 1
        out[i] = edges[j] + v * (edges[j + 1] - edges[j])


def _sample_physical(key, mask, offset, sigma, tau_pi, tau_mu, out):
    for i in prange(mask.shape[0]):
        s = row_state(key, i)
        z, s = normal_draw(s)
        u, s = next_uniform(s)
        t = offset + sigma * z - tau_pi * math.log(1.0 - u)
        if not mask[i]:
            u, s = next_uniform(s)
            t -= tau_mu * math.log(1.0 - u)
        out[i] = t


_sample_released = dual_kernel(_sample_released)
_sample_physical = dual_kernel(_sample_physical)


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
    pot: float | None = None           # protons on target given directly (then beam_energy = pot x T_p)

    @property
    def n_pot(self) -> float:
        if self.pot is not None:
            return float(self.pot)
        return protons_on_target(self.beam_energy, self.proton_kinetic_energy)

    @property
    def exposure_GWh(self) -> float:
        """Integrated beam energy [GWh] (for a card given in protons on target: N_POT x T_p)."""
        return float(self.beam_energy / c.GWH)

    @property
    def fluence(self) -> float:
        """Neutrinos per flavour per mm^2 at the detector, integrated over the exposure."""
        return fluence_per_flavour(self.n_pot, self.nu_per_flavour_per_proton, self.baseline)

    def summary(self) -> dict:
        """Printable numbers (label -> (value, unit))."""
        return {"protons on target": (self.n_pot, ""),
                "fluence per flavour": (self.fluence * 100.0, "cm^-2"),
                "flux normalisation error": (self.nu_per_flavour_per_proton_rel_error, "relative")}

    def spectrum(self, flavour: int, energy) -> np.ndarray:
        """dN/dE [1/MeV] normalised to 1 (delayed flavours only; the prompt flavour is a line at PROMPT_ENERGY)."""
        return michel_pdf(flavour, energy)


def load_timing(src: cards.Card, model: str | None = None) -> Timing:
    """Timing model of a source card (``model`` overrides the card's ``timing.model``)."""
    model = model or src.get("timing.model", str, choices=("released_pdf", "physical"))
    if model == "released_pdf":
        return released_pdf_timing(src.relative_file("timing.pdf_file"), src.error)
    fwhm_ns = src.number("timing.pulse_fwhm_ns", positive=True)
    return Timing("physical", pulse_sigma_us=fwhm_ns / 1000.0 / (2.0 * np.sqrt(2.0 * np.log(2.0))),
                  offset_us=src.number("timing.offset_us"))


def released_pdf_timing(path, error) -> Timing:
    """Timing from a released PDF table (t_us bin centres, pdf_prompt_nu, pdf_delayed_nu; equal bins).
    ``error(key, problem)`` builds the CardError of the card that named the file."""
    from ..errors import NudmsimError
    from ..response.tables import read_csv_table

    cols = ("t_us", "pdf_prompt_nu", "pdf_delayed_nu")
    try:
        tab = read_csv_table(path, columns=cols, nonnegative=cols[1:], increasing=cols[:1])
    except NudmsimError as exc:
        raise error("timing.pdf_file", str(exc)) from None
    for col in cols[1:]:
        if not tab[col].sum() > 0:
            raise error("timing.pdf_file", f"column '{col}' of {path.name} is all zero")
    centres = tab["t_us"]
    width = np.diff(centres)
    if len(width) == 0 or not np.allclose(width, width[0]):
        raise error("timing.pdf_file", f"file {path.name} must have equal-width time bins")
    edges = np.concatenate([centres - 0.5 * width[0], [centres[-1] + 0.5 * width[0]]])
    return Timing("released_pdf", edges, tab["pdf_prompt_nu"] / tab["pdf_prompt_nu"].sum(),
                  tab["pdf_delayed_nu"] / tab["pdf_delayed_nu"].sum())


def from_detector_card(card: cards.Card) -> SNSSource:
    """The SNS source of an experiment card's ``[source]`` table, built as the engine builds it
    (:func:`from_tables`): the source card is searched next to the card, then in ``$NUDMSIM_CARD_PATH``, then in
    ``fluxes/``; the table is validated against :data:`PI_DAR_SOURCE`."""
    from ..schema import validate

    src = card.load_card("source.card", "source")
    if src.card_kind != "pi_dar":
        raise card.error("source.card", f"names source '{src.name}' of kind '{src.card_kind}'",
                         "use a pi_dar source such as 'sns'")
    values = validate(card.get("source", dict), PI_DAR_SOURCE, path=card.path, prefix="source")
    out = from_tables(src, values, card.path, lambda name, key="": card.resolve(name, key))
    out.info.update(source_card=src.name, source_path=str(src.path), source_sha256=src.sha256)
    return out


# ------------------------------------------------------------------------------------------------
# the [source] table of an experiment card (nudmsim.experiment)
# ------------------------------------------------------------------------------------------------
from ..schema import Field, Section  # noqa: E402

TIMING = Section("source.timing", "arrival-time model of this detector (overrides the source card's)", fields=(
    Field("model", str, choices=("released_pdf", "physical"),
          doc="released_pdf: tabulated prompt/delayed PDFs; physical: Gaussian proton pulse folded with the "
              "pi+ and mu+ lifetimes (PDG, from `particle`)"),
    Field("pdf_file", str, default=None, doc="released_pdf: CSV with t_us, pdf_prompt_nu, pdf_delayed_nu"),
    Field("pulse_sigma_us", float, default=None, unit="us", lo=0, lo_open=True,
          doc="physical: Gaussian sigma of the proton pulse"),
    Field("pulse_fwhm_ns", float, default=None, unit="ns", lo=0, lo_open=True,
          doc="physical: FWHM of the proton pulse (alternative to pulse_sigma_us)"),
    Field("center_us", float, default=None, unit="us",
          doc="physical: pulse centre on the detector's time axis"),
))

PI_DAR_SOURCE = Section("source", "a pi+ decay-at-rest neutrino source seen from the detector", fields=(
    Field("card", str, doc="source card (fluxes/NAME.toml, or a file next to the experiment card)"),
    Field("protons_on_target", float, default=None, lo=0, lo_open=True,
          doc="protons on target of the exposure (give this or beam_energy_GWh)"),
    Field("beam_energy_GWh", float, default=None, unit="GWh", lo=0, lo_open=True,
          doc="integrated beam energy; POT = E_beam / proton_kinetic_energy_GeV"),
    Field("proton_kinetic_energy_GeV", float, default=None, unit="GeV", lo=0, lo_open=True,
          doc="proton kinetic energy for the GWh -> POT conversion (default: the source card's)"),
    Field("baseline_m", float, unit="m", lo=0, lo_open=True, doc="source-detector distance"),
    Field("nu_per_flavour_per_proton", float, lo=0, lo_open=True, doc="neutrinos of each flavour per proton"),
    Field("nu_per_flavour_per_proton_rel_error", float, default=0.0, lo=0,
          doc="relative 1-sigma uncertainty of the flux (a normsys 'flux' nuisance)"),
    Field("timing", TIMING, default=None, doc="arrival-time model (default: the source card's [timing])"),
), one_of=(("protons_on_target", "beam_energy_GWh"),))


def _timing_from_table(src: cards.Card, t: dict | None, path, resolve_file) -> Timing:
    from ..errors import CardError

    if t is None:
        return load_timing(src)
    if t["model"] == "released_pdf":
        if t["pdf_file"] is None:
            raise CardError(path, "source.timing.pdf_file", "is missing", "name the released PDF table")
        return released_pdf_timing(resolve_file(t["pdf_file"], "source.timing.pdf_file"),
                                   lambda k, p: CardError(path, f"source.{k}", p))
    sig = t["pulse_sigma_us"]
    if (sig is None) == (t["pulse_fwhm_ns"] is None):
        raise CardError(path, "source.timing", "give exactly one of pulse_sigma_us, pulse_fwhm_ns")
    if sig is None:
        sig = t["pulse_fwhm_ns"] / 1000.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    if t["center_us"] is None:
        raise CardError(path, "source.timing.center_us", "is missing", "give the pulse centre in us")
    return Timing("physical", pulse_sigma_us=sig, offset_us=t["center_us"])


def from_tables(src: cards.Card, v: dict, path, resolve_file) -> SNSSource:
    """The SNS source from a source card and the validated ``[source]`` table of an experiment card.
    ``resolve_file(name, key) -> Path`` finds a file the table names."""
    tp = v["proton_kinetic_energy_GeV"] or src.number("beam.proton_kinetic_energy_GeV", positive=True)
    if v["protons_on_target"] is not None:
        if v["proton_kinetic_energy_GeV"] is not None:
            from ..errors import CardError

            raise CardError(path, "source.proton_kinetic_energy_GeV", "is not used with protons_on_target",
                            "drop it")
        beam = v["protons_on_target"] * tp * c.GeV
    else:
        beam = v["beam_energy_GWh"] * c.GWH
    return SNSSource(pot=v["protons_on_target"], beam_energy=beam, proton_kinetic_energy=tp * c.GeV,
                     nu_per_flavour_per_proton=v["nu_per_flavour_per_proton"],
                     baseline=v["baseline_m"] * c.m, timing=_timing_from_table(src, v["timing"], path, resolve_file),
                     nu_per_flavour_per_proton_rel_error=v["nu_per_flavour_per_proton_rel_error"],
                     info={"source_card": src.name, "source_sha256": src.sha256})


def _register():
    from . import register_source_kind

    register_source_kind("pi_dar", schema=PI_DAR_SOURCE, build=from_tables,
                         doc="SNS-like pi+ DAR: prompt nu_mu line, Michel nu_e and anti-nu_mu, beam timing")


_register()
