"""Physical constants and SM parameters: the one place nudmsim takes numbers from.

Units follow scikit-hep ``hepunits`` (base: MeV, mm, ns; charge in units of e).  Every quantity
here carries its unit, so ``constants.M_PROTON / units.GeV`` is a number in GeV.

Sources
-------
* Particle masses, widths and lifetimes: the ``particle`` package (PDG tables shipped with it).
* G_F, alpha, sin^2 theta_W (low-energy MSbar value used for CEvNS), |V_ud|, |V_us|, f_pi, f_K:
  PDG Review of Particle Physics 2024 (R.L. Workman et al., PTEP 2022 083C01 and 2024 update).
* Nucleon scalar charges f_q^N: M. Hoferichter, J. Ruiz de Elvira, B. Kubis, U.-G. Meissner,
  PRL 115 (2015) 092301 (as quoted in SPEC section 4.1); heavy quarks 2/27 (1 - sum of light).
* Standard Halo Model (XENON1T 2018 convention): rho = 0.3 GeV/cm^3, v0 = 220 km/s, vE = 232 km/s,
  vesc = 544 km/s (XENON1T, PRL 121 (2018) 111302; shared/data/xenon1t_2018).
"""
from __future__ import annotations

import math

import hepunits as u
from particle import Particle

# --- unit helpers re-exported for convenience ---------------------------------------------------
MeV, GeV, keV, eV, TeV = u.MeV, u.GeV, u.keV, u.eV, u.TeV
mm, cm, m, km = u.mm, u.cm, u.m, u.km
ns, s = u.ns, u.s
kg = u.kg
#: hbar*c in MeV*mm (hepunits): multiply a natural-unit cross section [MeV^-2] by HBARC**2 for mm^2.
HBARC = u.hbarc
#: hbar in MeV*ns
HBAR = u.hbar
C_LIGHT = u.c_light  # mm/ns
#: atomic mass unit in MeV (CODATA 2018: 931.49410242 MeV)
AMU = 931.49410242 * MeV
DAY = 86400.0 * s
YEAR = 365.25 * DAY
TONNE = 1000.0 * kg
GWH = 1.0e9 * 3600.0 * u.joule  # 1 GW*h in MeV


def _pdg(pdgid: int):
    return Particle.from_pdgid(pdgid)


def _mass(pdgid: int) -> float:
    return float(_pdg(pdgid).mass) * MeV


# --- particle masses (PDG, via `particle`) -----------------------------------------------------
M_ELECTRON = _mass(11)
M_MUON = _mass(13)
M_TAU = _mass(15)
M_PROTON = _mass(2212)
M_NEUTRON = _mass(2112)
M_NUCLEON = 0.5 * (M_PROTON + M_NEUTRON)
M_PION = _mass(211)
M_PION0 = _mass(111)
M_KAON = _mass(321)
M_W = _mass(24)
GAMMA_W = float(_pdg(24).width) * MeV
M_Z = _mass(23)
GAMMA_Z = float(_pdg(23).width) * MeV
M_HIGGS = _mass(25)
LEPTON_MASS = {"e": M_ELECTRON, "mu": M_MUON, "tau": M_TAU}
#: lifetimes in ns
TAU_PION = float(_pdg(211).lifetime) * ns
TAU_MUON = float(_pdg(13).lifetime) * ns
TAU_KAON = float(_pdg(321).lifetime) * ns
#: light-quark masses (PDG, MSbar at 2 GeV) as shipped by `particle`
M_UP = _mass(2)
M_DOWN = _mass(1)
M_STRANGE = _mass(3)
#: heavy-quark masses (PDG via `particle`: MSbar m_c(m_c), m_b(m_b); top from direct measurements)
M_CHARM = _mass(4)
M_BOTTOM = _mass(5)
M_TOP = _mass(6)

# --- couplings (PDG 2024) -----------------------------------------------------------------------
#: Fermi constant [MeV^-2]: 1.1663788e-5 GeV^-2
G_FERMI = 1.1663788e-5 / GeV**2
#: fine-structure constant at q^2 = 0
ALPHA_EM = 1.0 / 137.035999084
#: weak mixing angle, MSbar at low q^2 (PDG 2024, "sin^2 theta_W(0)" = 0.23857)
SIN2_THETA_W = 0.23857
# effective leptonic weak mixing angle at the Z pole (PDG 2024, "sin^2 theta_eff^lept" = 0.23153 +- 0.00004);
# sets the Z couplings v_f = T3 - 2 Q sin^2 theta_eff, a_f = T3 of the Z -> l l background generator
SIN2_THETA_EFF = 0.23153
# tau leptonic branching fractions (PDG 2024): tau -> e nu nu 17.82 +- 0.04 %, tau -> mu nu nu 17.39 +- 0.04 %
BR_TAU_E = 0.1782
BR_TAU_MU = 0.1739
V_UD = 0.97367
V_US = 0.22431
V_CB = 0.0411
#: |V_td|, |V_ts| (PDG 2024 CKM review, from B-mixing / global fit: 8.6e-3, 41.5e-3); used for the
#: top-loop s->d scalar penguin (K+ -> pi+ phi)
V_TD = 8.6e-3
V_TS = 41.5e-3
#: |V_ub|, |V_cd|, |V_cs| (PDG 2024 CKM review: 3.82e-3, 0.221, 0.975); used for the qq'-bar -> W
#: parton luminosities (pp source)
V_UB = 3.82e-3
V_CD = 0.221
V_CS = 0.975
#: branching ratios of the SM two-body leptonic decays (PDG 2024): B(K+ -> mu+ nu) = 63.56 %,
#: B(pi+ -> mu+ nu) = 99.98770 %
BR_K_MU2 = 0.6356
BR_PI_MU2 = 0.9998770
#: meson decay constants (PDG 2024 FLAG averages, f_pi+ = 130.2 MeV, f_K+ = 155.7 MeV)
F_PION = 130.2 * MeV
F_KAON = 155.7 * MeV

# --- nucleon scalar charges (Hoferichter et al. 2015) ------------------------------------------
F_U_PROTON = 0.0208
F_D_PROTON = 0.0411
F_U_NEUTRON = 0.0189
F_D_NEUTRON = 0.0451
F_STRANGE = 0.043


def heavy_quark_charge(f_u: float, f_d: float, f_s: float = F_STRANGE) -> float:
    """f_Q for each heavy quark (c, b, t): 2/27 (1 - f_u - f_d - f_s) (Shifman-Vainshtein-Zakharov)."""
    return 2.0 / 27.0 * (1.0 - f_u - f_d - f_s)


# --- Standard Halo Model, XENON1T 2018 convention -------------------------------------------------
RHO_DM = 0.3 * GeV / cm**3
V0_SHM = 220.0 * km / s
VEARTH_SHM = 232.0 * km / s
VESC_SHM = 544.0 * km / s

# --- conversions --------------------------------------------------------------------------------
#: 1 MeV^-2 in cm^2
INV_MEV2_TO_CM2 = (HBARC / cm) ** 2
PI = math.pi

# --- astrophysics -------------------------------------------------------------------------------
#: solar mass 1.98841e30 kg (PDG 2024, Astrophysical constants table)
M_SUN = 1.98841e30 * kg

# --- heavy-neutral-lepton decays (seed 003 App. A; nudmsim.processes.hnl_widths) --------------------
#: meson masses (PDG via `particle`)
M_ETA = _mass(221)
M_ETAPRIME = _mass(331)
M_RHO0 = _mass(113)
M_RHO = _mass(213)
M_OMEGA = _mass(223)
M_PHI = _mass(333)
M_KSTAR = _mass(323)
#: total widths of the broad vectors (PDG via `particle`)
WIDTH_RHO = float(_pdg(213).width) * MeV
WIDTH_KSTAR = float(_pdg(323).width) * MeV
M_D = _mass(411)
M_DS = _mass(431)
#: D+ lifetime (PDG via `particle`) and B(D+ -> mu+ nu) = 3.74e-4 (PDG 2024)
TAU_D = float(_pdg(411).lifetime) * ns
BR_D_MU2 = 3.74e-4
#: pseudoscalar decay constants: f_D+ = 212.0 MeV, f_Ds = 249.9 MeV (FLAG 2019 N_f = 2+1+1 averages, as in
#: PDG 2024); f_eta = 81.7 MeV and f_eta' = -94.7 MeV are the Z-current (neutral-current) constants used
#: for N -> nu eta(') by Bondarenko, Boyarsky, Gorbunov, Ruchayskiy, JHEP 11 (2018) 032, Table 3.
F_D = 212.0 * MeV
F_DS = 249.9 * MeV
F_ETA = 81.7 * MeV
F_ETAPRIME = -94.7 * MeV
#: vector-meson decay constants <V(eps)| qbar gamma_mu q |0> = f_V m_V eps* (per unit quark content):
#: Bharucha, Straub, Zwicky, JHEP 08 (2016) 098, Table 1 (f_rho = 213, f_omega = 197, f_K* = 204,
#: f_phi = 233 MeV; from tau -> rho nu and V -> e+ e- widths)
F_RHO = 213.0 * MeV
F_OMEGA = 197.0 * MeV
F_KSTAR = 204.0 * MeV
F_PHI = 233.0 * MeV

# --- light-neutrino oscillation parameters (PDG 2024, "Neutrino masses, mixing and oscillations" summary
# table): sin^2 theta_12 = 0.307, Delta m^2_21 = 7.53e-5 eV^2, sin^2 theta_13 = 2.19e-2,
# sin^2 theta_23 = 0.558 (normal) / 0.553 (inverted), Delta m^2_32 = 2.455e-3 eV^2 (normal) / -2.529e-3 eV^2
# (inverted), delta_CP = 1.19 pi.  Used for the seed-003 HNL mixings (its eqs. 4.2-4.3).
SIN2_THETA12 = 0.307
SIN2_THETA13 = 0.0219
SIN2_THETA23 = {"NH": 0.558, "IH": 0.553}
DM2_21 = 7.53e-5 * eV**2
DM2_32 = {"NH": 2.455e-3 * eV**2, "IH": -2.529e-3 * eV**2}
DELTA_CP = 1.19 * math.pi
