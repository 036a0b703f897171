"""Direct-detection detectors built from cards: targets, exposure, halo and detector response.

Two card kinds (``detectors/``):

* ``dd-xenon`` (``xenon1t_2018``): a xenon target (single-nucleus convention of the release or natural
  isotopes), the official migration matrix (true -> reconstructed NR energy, efficiency included) and the
  binwise likelihood (:mod:`nudmsim.response.binwise`).
* ``dd-scintillator`` (``borexino``): a molecular target (C9H12) whose protons and carbon nuclei recoil,
  Birks quenching to keVee (:mod:`nudmsim.response.birks`), Gaussian resolution and a visible threshold.

:func:`load` returns a :class:`XenonDetector` or :class:`ScintillatorDetector` sharing one interface:
``targets`` (list of :class:`Target`), ``exposure`` [kg ns as a count of kg times ns], ``halo``,
``detection_probability(E_R, i)`` and ``observe(E_R, i, rng)`` (observable columns for event files).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erfc

from .. import cards
from .. import constants as c
from .. import targets as tg
from ..errors import CardError, NudmsimError
from ..sources import halo as halo_mod
from . import binwise
from .birks import cached_quenching

KG_IN_MEV = c.kg * c.C_LIGHT**2
_M_ALPHA_KEV = 3727379.4


@dataclass(frozen=True)
class Target:
    """One recoiling species: nucleus, number per kg of detector, form factor name, label."""

    nucleus: tg.Nucleus
    per_kg: float
    form_factor: str
    label: str


class _Base:
    def __init__(self, card):
        self.card = card
        self.name = card.name
        self.kind = card.get("card.kind", str)
        mass = card.number("exposure.mass_kg", positive=True)
        days = card.number("exposure.live_days", positive=True)
        self.mass_kg, self.live_days = mass, days
        #: exposure as (kg count) x ns: rate per kg per ns times this = expected events
        self.exposure = mass * days * c.DAY
        self.halo = halo_mod.load_halo(str(card.find_card("source.halo", "source")))

    def target_labels(self) -> list[str]:
        return [t.label for t in self.targets]

    def blind_message(self, what: str) -> str:
        return (f"{self.name} is blind there: {what} (see `nudmsim predict x-to-nu -d {self.name}` for the "
                f"sensitive window, or choose a larger m_X)")


class XenonDetector(_Base):
    """Xenon TPC with an official migration matrix and binwise likelihood."""

    def __init__(self, card):
        super().__init__(card)
        conv = card.get("target.convention", str, choices=("single_nucleus", "isotopes"))
        ff = card.get("target.form_factor", str)
        from .. import formfactors
        formfactors.get(ff)
        nm = card.get("target.nucleon_mass", str, choices=("amu", "proton"))
        self.nucleon_mass = c.AMU if nm == "amu" else c.M_PROTON
        self.convention = conv
        if conv == "single_nucleus":
            A = card.number("target.A_single", positive=True)
            Z = card.get("target.Z", int)
            nuc = tg.Nucleus(card.get("target.element", str), Z, A, A * c.AMU)
            self.targets = [Target(nuc, KG_IN_MEV / (A * c.AMU), ff, f"{nuc.symbol}(A={A:g})")]
        else:
            isos = tg.element(card.get("target.element", str))
            mean = sum(i.abundance * (i.mass + i.Z * c.M_ELECTRON) for i in isos)
            self.targets = [Target(i, i.abundance * KG_IN_MEV / mean, ff, i.name) for i in isos]
        self.roi = (card.number("roi.e_min_keVnr", positive=True), card.number("roi.e_max_keVnr", positive=True))
        if self.roi[1] <= self.roi[0]:
            raise CardError(card.path, "roi.e_max_keVnr", "must be larger than roi.e_min_keVnr")
        self.matrix = card.read_file("response.migration_matrix", binwise.MigrationMatrix.from_csv)
        card.read_file("likelihood.threshold", binwise.read_threshold)      # validated, errors name the key
        threshold = card.relative_file("likelihood.threshold")
        self.likelihood = card.read_file("likelihood.table",
                                         lambda p: binwise.BinwiseLikelihood.from_csv(p, threshold))
        if not np.allclose(self.likelihood.reco_edges, self.matrix.reco_edges):
            raise CardError(card.path, "likelihood.table", "its reconstructed bins differ from the matrix's")
        conv_exp = card.get("likelihood.exposure_convention", str, choices=("release", "card"))
        # multiply a rate per (kg ns) by this to get the expected counts the likelihood tables expect
        self.likelihood_exposure = 1000.0 * c.YEAR if conv_exp == "release" else self.exposure
        # reconstructed bins inside the ROI (for the "events in ROI" prediction)
        mid = 0.5 * (self.matrix.reco_edges[1:] + self.matrix.reco_edges[:-1])
        self.roi_mask = (mid >= self.roi[0]) & (mid <= self.roi[1])

    def detection_probability(self, E_R, i: int = 0) -> np.ndarray:
        """Efficiency at true recoil E_R [MeV] (migration-matrix row sum)."""
        return self.matrix.efficiency(np.asarray(E_R) / c.keV)

    def roi_probability(self, E_R, i: int = 0) -> np.ndarray:
        """P(reconstructed energy inside the ROI | true E_R)."""
        b = self.matrix.true_bin(np.asarray(E_R) / c.keV)
        p = self.matrix.P[:, self.roi_mask].sum(axis=1)
        return np.where(b >= 0, p[np.maximum(b, 0)], 0.0)

    def observe(self, E_R, target_index, rng) -> dict:
        E_keV = np.asarray(E_R) / c.keV
        det, e_rec = self.matrix.sample_reco(E_keV, rng)
        in_roi = det & (e_rec >= self.roi[0]) & (e_rec <= self.roi[1])
        return {"efficiency": self.matrix.efficiency(E_keV), "detected": det.astype(np.int8),
                "E_rec_keV": e_rec, "in_roi": in_roi.astype(np.int8)}

    def counts_from_true_bins(self, true_bin_rates_per_kg_ns) -> np.ndarray:
        """Expected counts per reconstructed bin (likelihood convention) from rates per true bin."""
        return self.matrix.fold(np.asarray(true_bin_rates_per_kg_ns) * self.likelihood_exposure)


class ScintillatorDetector(_Base):
    """Organic liquid scintillator: proton and carbon recoils, Birks quenching, resolution, threshold."""

    def __init__(self, card):
        super().__init__(card)
        mol = card.get("target.molecule", dict)
        comp = {}
        for sym, n in mol.items():
            Z, _ = tg._ISOTOPES.get(sym, (None, None))
            if Z is None or not isinstance(n, int) or n <= 0:
                raise CardError(card.path, f"target.molecule.{sym}", "must be an element symbol with a count > 0")
            comp[Z] = n
        self.composition = comp
        self.density = card.number("target.density_g_cm3", positive=True)
        mol_mass = sum(n * tg.molar_mass(tg.element(sym)) for sym, n in mol.items())  # MeV
        molecules_per_kg = KG_IN_MEV / mol_mass
        ff = card.get("target.form_factor", str)
        self.targets = []
        for spec in card.get("target.species", list):
            if spec == "H1":
                p = tg.Nucleus("H", 1, 1, c.M_PROTON, 1.0)
                ab = tg.element("H")[0].abundance
                self.targets.append(Target(p, mol["H"] * ab * molecules_per_kg, "none", "p"))
            else:
                sym = spec.rstrip("0123456789")
                if sym not in mol:
                    raise CardError(card.path, "target.species", f"'{spec}' is not in the molecule")
                for iso in tg.parse_target(spec):
                    self.targets.append(Target(iso, mol[sym] * iso.abundance * molecules_per_kg, ff, iso.name))
        model = card.get("response.quenching.model", str, choices=("birks", "constant"))
        self.quenching_model = model
        self.kB = card.number("response.quenching.kB_cm_MeV", nonnegative=True)
        self.qf_constant = card.number("response.quenching.constant_factor", positive=True, hi=1.0)
        self.sigma1 = card.number("response.resolution.sigma_at_1MeV_keV", positive=True)
        self.threshold = card.number("response.threshold.visible_keVee", nonnegative=True)

    def with_quenching(self, model: str):
        """A copy of this detector using quenching ``model`` ("birks" or "constant"/"seed")."""
        import copy
        if model not in ("birks", "constant", "seed"):
            raise NudmsimError(f"quenching option '{model}': choose birks or seed")
        other = copy.copy(self)
        other.quenching_model = "constant" if model in ("constant", "seed") else "birks"
        return other

    def visible(self, E_R, i: int) -> np.ndarray:
        """Electron-equivalent energy [keVee] of a recoil E_R [MeV] of target ``i``."""
        T = np.asarray(E_R, dtype=float) / c.keV
        if self.quenching_model == "constant":
            return self.qf_constant * T
        nuc = self.targets[i].nucleus
        q = cached_quenching(self.kB, tuple(sorted(self.composition.items())), self.density, nuc.Z,
                             nuc.mass / c.keV)
        return q.visible(T)

    def sigma(self, E_vis_keV) -> np.ndarray:
        return self.sigma1 * np.sqrt(np.maximum(np.asarray(E_vis_keV, dtype=float), 0.0) / 1000.0)

    def detection_probability(self, E_R, i: int = 0) -> np.ndarray:
        """P(smeared visible energy > threshold)."""
        ev = self.visible(E_R, i)
        s = np.maximum(self.sigma(ev), 1e-9)
        return 0.5 * erfc((self.threshold - ev) / (math.sqrt(2.0) * s))

    roi_probability = detection_probability

    def observe(self, E_R, target_index, rng) -> dict:
        E_R = np.asarray(E_R, dtype=float)
        idx = np.asarray(target_index)
        ev = np.empty_like(E_R)
        for i in np.unique(idx):
            m = idx == i
            ev[m] = self.visible(E_R[m], int(i))
        obs = ev + self.sigma(ev) * rng.standard_normal(E_R.shape)
        det = obs > self.threshold
        return {"E_vis_keVee": ev, "E_obs_keVee": obs, "detected": det.astype(np.int8),
                "in_roi": det.astype(np.int8)}

    def smear_to_bins(self, E_R, rates, i: int, edges_keVee) -> np.ndarray:
        """Rates at recoil energies E_R (already integrated weights) spread into visible bins."""
        ev = self.visible(E_R, i)
        s = np.maximum(self.sigma(ev), 1e-9)
        z = (np.asarray(edges_keVee)[None, :] - ev[:, None]) / (math.sqrt(2.0) * s[:, None])
        cdf = 0.5 * erfc(-z)
        return np.asarray(rates) @ np.diff(cdf, axis=1)


def load(name_or_card):
    """The detector of a card (name, path or loaded Card)."""
    card = cards.load_detector(name_or_card) if isinstance(name_or_card, str) else name_or_card
    kind = card.get("card.kind", str)
    if kind == "dd-xenon":
        return XenonDetector(card)
    if kind == "dd-scintillator":
        return ScintillatorDetector(card)
    raise NudmsimError(f"detector '{card.name}' has kind '{kind}', not a direct-detection card "
                       f"(use xenon1t_2018 or borexino)")
