"""Nuclear targets: isotopes, natural abundances and nuclear masses.

Atomic masses: AME2020 (W.J. Huang et al., Chin. Phys. C 45 (2021) 030002), in u.
Natural abundances: IUPAC 2013 isotopic compositions (J. Meija et al., Pure Appl. Chem. 88 (2016) 293).
Nuclear mass = atomic mass - Z m_e (electron binding energies, < 0.3 MeV even for Xe, are neglected;
that is < 3e-6 of the nuclear mass).

A target in a card is either an element symbol (natural mix, ``"Xe"``), an isotope (``"Xe131"``), or
a list of them with mass fractions.  :func:`element` returns the isotopes with their abundance
(number fraction) so that rates are summed as Sum_j f_j N_T R_j.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import constants as c
from .errors import NudmsimError

# symbol: (Z, [(A, atomic mass in u, abundance)])
_ISOTOPES: dict[str, tuple[int, list[tuple[int, float, float]]]] = {
    "H": (1, [(1, 1.00782503223, 0.999885), (2, 2.01410177812, 0.000115)]),
    "C": (6, [(12, 12.0, 0.9893), (13, 13.00335483507, 0.0107)]),
    "N": (7, [(14, 14.00307400443, 0.99636), (15, 15.00010889888, 0.00364)]),
    "O": (8, [(16, 15.99491461957, 0.99757), (17, 16.99913175650, 0.00038), (18, 17.99915961286, 0.00205)]),
    "F": (9, [(19, 18.99840316273, 1.0)]),
    "Na": (11, [(23, 22.98976928196, 1.0)]),
    "Ca": (20, [(40, 39.962590850, 0.96941), (42, 41.95861783, 0.00647), (43, 42.95876644, 0.00135),
                (44, 43.95548156, 0.02086), (46, 45.9536890, 0.00004), (48, 47.95252276, 0.00187)]),
    "Ar": (18, [(36, 35.967545105, 0.003336), (38, 37.96273211, 0.000629), (40, 39.9623831237, 0.996035)]),
    "Ge": (32, [(70, 69.92424875, 0.2057), (72, 71.922075826, 0.2745), (73, 72.923458956, 0.0775),
                (74, 73.921177761, 0.3650), (76, 75.921402726, 0.0773)]),
    "I": (53, [(127, 126.9044719, 1.0)]),
    "Cs": (55, [(133, 132.905451961, 1.0)]),
    "W": (74, [(180, 179.9467108, 0.0012), (182, 181.94820394, 0.2650), (183, 182.95022275, 0.1431),
               (184, 183.95093092, 0.3064), (186, 185.9543628, 0.2843)]),
    "Xe": (54, [(124, 123.905892, 0.000952), (126, 125.9042983, 0.000890), (128, 127.903531, 0.019102),
                (129, 128.9047808611, 0.264006), (130, 129.903509349, 0.040710),
                (131, 130.90508406, 0.212324), (132, 131.9041550856, 0.269086),
                (134, 133.90539466, 0.104357), (136, 135.907214484, 0.088573)]),
}


@dataclass(frozen=True)
class Nucleus:
    """One isotope.  ``mass`` is the nuclear mass in MeV (hepunits); ``abundance`` the number fraction
    within its element (1 for a pure isotope)."""

    symbol: str
    Z: int
    A: int
    mass: float
    abundance: float = 1.0

    @property
    def N(self) -> int:
        return self.A - self.Z

    @property
    def name(self) -> str:
        return f"{self.symbol}{self.A}"

    @property
    def pdgid(self) -> int:
        """PDG nuclear code 100ZZZAAA0."""
        return 1000000000 + self.Z * 10000 + self.A * 10


def _nucleus(symbol: str, Z: int, A: int, mass_u: float, abundance: float) -> Nucleus:
    return Nucleus(symbol, Z, A, mass_u * c.AMU - Z * c.M_ELECTRON, abundance)


def element(symbol: str) -> list[Nucleus]:
    """The natural isotopes of an element, abundances normalised to 1."""
    if symbol not in _ISOTOPES:
        raise NudmsimError(f"unknown element '{symbol}' (known: {', '.join(sorted(_ISOTOPES))})")
    Z, isos = _ISOTOPES[symbol]
    total = sum(a for _, _, a in isos)
    return [_nucleus(symbol, Z, A, m, ab / total) for A, m, ab in isos]


def isotope(name: str) -> Nucleus:
    """An isotope by name, e.g. ``"Xe131"`` or ``"Cs133"`` (abundance 1)."""
    sym = name.rstrip("0123456789")
    digits = name[len(sym):]
    if not digits:
        raise NudmsimError(f"'{name}' is an element, not an isotope (write e.g. '{name}131')")
    for iso in element(sym):
        if iso.A == int(digits):
            return Nucleus(iso.symbol, iso.Z, iso.A, iso.mass, 1.0)
    raise NudmsimError(f"isotope '{name}' is not in the table (known for {sym}: "
                       f"{', '.join(i.name for i in element(sym))})")


def parse_target(spec: str) -> list[Nucleus]:
    """``"Xe"`` -> natural isotopes; ``"Xe131"`` -> that isotope alone."""
    return isotope(spec) if spec[-1].isdigit() else element(spec)


def mean_mass_number(nuclei: list[Nucleus]) -> float:
    """Abundance-weighted mean A."""
    return sum(n.abundance * n.A for n in nuclei) / sum(n.abundance for n in nuclei)


def molar_mass(nuclei: list[Nucleus]) -> float:
    """Abundance-weighted atomic mass in MeV (for counting atoms per kg)."""
    return sum(n.abundance * (n.mass + n.Z * c.M_ELECTRON) for n in nuclei) / sum(n.abundance for n in nuclei)
