"""Nuclear targets: isotopes, natural abundances, nuclear masses and materials.

Sources
-------
* Atomic masses: AME2020, M. Wang et al., Chin. Phys. C 45 (2021) 030003 (values as rounded in
  ``massround.mas20``), in u.
* Natural abundances: IUPAC 2013 representative isotopic compositions, J. Meija et al., Pure Appl. Chem. 88
  (2016) 293 (argon: atmospheric).  The abundance-weighted atomic masses reproduce the IUPAC 2021 standard
  atomic weights (T. Prohaska et al., Pure Appl. Chem. 94 (2022) 573) within their stated intervals
  (tests/test_targets.py).
* Nuclear mass = atomic mass - Z m_e (electron binding energies, < 0.3 MeV even for Xe, are neglected;
  that is < 3e-6 of the nuclear mass).

A target is an element symbol (natural mix, ``"Xe"``), an isotope (``"Xe131"``), or a *material*: a chemical
formula (``"CsI"``, ``"C9H12"``, ``"CaWO4"``) or a table of element or isotope counts per formula unit
(``{Cs = 1, I = 1}``, ``{H1 = 12, C = 9}``).  :func:`material` expands natural elements into isotopes and
returns, per isotope, its number fraction among the target nuclei and its nuclear mass;
:meth:`Material.n_targets` gives the number of nuclei of each isotope in a detector mass.

Example::

    >>> m = material("CsI")
    >>> [(iso.name, round(f, 3)) for iso, f, _ in m]
    [('Cs133', 0.5), ('I127', 0.5)]
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import constants as c
from .errors import NudmsimError

# symbol: (Z, [(A, atomic mass in u (AME2020), abundance (IUPAC 2013))])
_ISOTOPES: dict[str, tuple[int, list[tuple[int, float, float]]]] = {
    "H": (1, [(1, 1.0078250319, 0.999885), (2, 2.01410177784, 0.000115)]),
    "He": (2, [(3, 3.01602932197, 0.000002), (4, 4.00260325413, 0.999998)]),
    "C": (6, [(12, 12.0, 0.9893), (13, 13.00335483534, 0.0107)]),
    "N": (7, [(14, 14.00307400425, 0.99636), (15, 15.0001088983, 0.00364)]),
    "O": (8, [(16, 15.9949146193, 0.99757), (17, 16.999131756, 0.00038), (18, 17.9991596121, 0.00205)]),
    "F": (9, [(19, 18.9984031621, 1.0)]),
    "Ne": (10, [(20, 19.9924401753, 0.9048), (21, 20.99384669, 0.0027), (22, 21.991385114, 0.0925)]),
    "Na": (11, [(23, 22.989769282, 1.0)]),
    "Al": (13, [(27, 26.98153841, 1.0)]),
    "Si": (14, [(28, 27.9769265344, 0.92223), (29, 28.9764946643, 0.04685), (30, 29.973770137, 0.03092)]),
    "S": (16, [(32, 31.9720711735, 0.9499), (33, 32.9714589086, 0.0075), (34, 33.96786701, 0.0425),
               (36, 35.96708069, 0.0001)]),
    "Cl": (17, [(35, 34.96885269, 0.7576), (37, 36.96590257, 0.2424)]),
    "Ar": (18, [(36, 35.967545106, 0.003336), (38, 37.9627321, 0.000629), (40, 39.962383122, 0.996035)]),
    "K": (19, [(39, 38.963706485, 0.932581), (40, 39.96399817, 0.000117), (41, 40.961825256, 0.067302)]),
    "Ca": (20, [(40, 39.962590851, 0.96941), (42, 41.95861778, 0.00647), (43, 42.95876638, 0.00135),
                (44, 43.9554815, 0.02086), (46, 45.9536877, 0.00004), (48, 47.952522654, 0.00187)]),
    "Ge": (32, [(70, 69.9242485, 0.2057), (72, 71.92207582, 0.2745), (73, 72.92345895, 0.0775),
                (74, 73.921177761, 0.3650), (76, 75.921402725, 0.0773)]),
    "I": (53, [(127, 126.904473, 1.0)]),
    "Xe": (54, [(124, 123.9058852, 0.000952), (126, 125.904297422, 0.000890), (128, 127.903530753, 0.019102),
                (129, 128.904780857, 0.264006), (130, 129.903509347, 0.040710),
                (131, 130.905084128, 0.212324), (132, 131.904155083, 0.269086),
                (134, 133.90539303, 0.104357), (136, 135.907214474, 0.088573)]),
    "Cs": (55, [(133, 132.905451959, 1.0)]),
    "W": (74, [(180, 179.9467133, 0.0012), (182, 181.9482056, 0.2650), (183, 182.9502244, 0.1431),
               (184, 183.9509332, 0.3064), (186, 185.9543651, 0.2843)]),
}

#: kilogram as a rest energy in MeV (hepunits: kg is in MeV ns^2/mm^2)
KG_IN_MEV = c.kg * c.C_LIGHT**2


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

    @property
    def atomic_mass(self) -> float:
        """Atomic mass in MeV (nuclear mass plus Z electrons)."""
        return self.mass + self.Z * c.M_ELECTRON


def _nucleus(symbol: str, Z: int, A: int, mass_u: float, abundance: float) -> Nucleus:
    return Nucleus(symbol, Z, A, mass_u * c.AMU - Z * c.M_ELECTRON, abundance)


def elements() -> list[str]:
    """The element symbols with tabulated isotopes."""
    return sorted(_ISOTOPES, key=lambda s: _ISOTOPES[s][0])


def _unknown_element(symbol: str) -> NudmsimError:
    import difflib

    close = difflib.get_close_matches(symbol, list(_ISOTOPES), n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return NudmsimError(f"unknown element '{symbol}' ({hint}known: {', '.join(elements())})")


def element(symbol: str) -> list[Nucleus]:
    """The natural isotopes of an element, abundances normalised to 1."""
    if symbol not in _ISOTOPES:
        raise _unknown_element(symbol)
    Z, isos = _ISOTOPES[symbol]
    total = sum(a for _, _, a in isos)
    return [_nucleus(symbol, Z, A, m, ab / total) for A, m, ab in isos]


def isotope(name: str) -> Nucleus:
    """An isotope by name, e.g. ``"Xe131"`` or ``"Cs133"`` (abundance 1)."""
    if not isinstance(name, str) or not name:
        raise NudmsimError(f"isotope {name!r} must be a name such as 'Xe131'")
    sym = name.rstrip("0123456789")
    digits = name[len(sym):]
    if not digits:
        raise NudmsimError(f"'{name}' is an element, not an isotope (write e.g. '{name}{_example_A(sym)}')")
    for iso in element(sym):
        if iso.A == int(digits):
            return Nucleus(iso.symbol, iso.Z, iso.A, iso.mass, 1.0)
    raise NudmsimError(f"isotope '{name}' is not in the table (known for {sym}: "
                       f"{', '.join(i.name for i in element(sym))})")


def _example_A(sym: str) -> str:
    return str(max(_ISOTOPES[sym][1], key=lambda r: r[2])[0]) if sym in _ISOTOPES else "131"


def parse_target(spec: str) -> list[Nucleus]:
    """``"Xe"`` -> natural isotopes; ``"Xe131"`` -> that isotope alone."""
    if not isinstance(spec, str) or not spec:
        raise NudmsimError(f"target {spec!r} must be an element ('Xe') or an isotope ('Xe131')")
    return [isotope(spec)] if spec[-1].isdigit() else element(spec)


def mean_mass_number(nuclei: list[Nucleus]) -> float:
    """Abundance-weighted mean A."""
    return sum(n.abundance * n.A for n in nuclei) / sum(n.abundance for n in nuclei)


def molar_mass(nuclei: list[Nucleus]) -> float:
    """Abundance-weighted atomic mass in MeV (for counting atoms per kg)."""
    return sum(n.abundance * (n.mass + n.Z * c.M_ELECTRON) for n in nuclei) / sum(n.abundance for n in nuclei)


# ------------------------------------------------------------------------------------------------
# materials
# ------------------------------------------------------------------------------------------------
class Component(NamedTuple):
    """One isotope of a material: the isotope, its number fraction among the material's nuclei, its
    nuclear mass [MeV]."""

    isotope: Nucleus
    fraction: float
    mass: float


class Material(tuple):
    """The isotopes of a material as a tuple of :class:`Component` ``(isotope, fraction, mass)``.

    ``name``: the formula as given; ``atoms_per_formula``: atoms in one formula unit; ``formula_mass``:
    atomic mass of one formula unit [MeV] (electrons included, as in a weighed detector)."""

    name: str
    atoms_per_formula: float
    formula_mass: float

    def __new__(cls, components, name: str, atoms_per_formula: float, formula_mass: float):
        obj = super().__new__(cls, tuple(components))
        obj.name, obj.atoms_per_formula, obj.formula_mass = name, float(atoms_per_formula), float(formula_mass)
        return obj

    @property
    def isotopes(self) -> list[Nucleus]:
        return [comp.isotope for comp in self]

    @property
    def fractions(self) -> np.ndarray:
        return np.array([comp.fraction for comp in self])

    @property
    def per_formula(self) -> np.ndarray:
        """Atoms of each isotope per formula unit."""
        return self.fractions * self.atoms_per_formula

    def n_targets(self, mass_kg: float) -> np.ndarray:
        """Number of nuclei of each isotope in ``mass_kg`` kilograms of the material."""
        mass_kg = float(mass_kg)
        if not (math.isfinite(mass_kg) and mass_kg >= 0):
            raise NudmsimError(f"target mass must be a finite number of kg >= 0, got {mass_kg}")
        return mass_kg * KG_IN_MEV / self.formula_mass * self.per_formula

    def __repr__(self) -> str:
        parts = ", ".join(f"{comp.isotope.name} {comp.fraction:.4g}" for comp in self)
        return f"Material({self.name!r}: {parts})"


_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)")


def parse_formula(formula: str) -> dict[str, int]:
    """``"CaWO4"`` -> ``{"Ca": 1, "W": 1, "O": 4}`` (element symbols with integer counts; repeats add up)."""
    text = formula.strip() if isinstance(formula, str) else formula
    if not isinstance(text, str) or not text:
        raise NudmsimError(f"material {formula!r}: give a chemical formula such as 'CsI' or 'C9H12'")
    pos, counts = 0, {}
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            break
        sym, num = m.group(1), m.group(2)
        if sym not in _ISOTOPES:
            raise NudmsimError(f"material '{text}': {_unknown_element(sym)}")
        n = int(num) if num else 1
        if n <= 0:
            raise NudmsimError(f"material '{text}': the count of {sym} must be > 0")
        counts[sym] = counts.get(sym, 0) + n
        pos = m.end()
    if pos != len(text):
        raise NudmsimError(f"material '{text}' is not a chemical formula at '{text[pos:]}' (write element "
                           f"symbols with a capital letter and whole counts, e.g. 'CsI', 'C9H12', 'CaWO4')")
    if len(counts) == 1:
        (sym, n), = counts.items()
        if n > 1 and any(A == n for A, _, _ in _ISOTOPES[sym][1]):
            raise NudmsimError(f"material '{text}' is ambiguous: write '{sym}' for natural {sym}, or the table "
                               f"{{ {sym}{n} = 1 }} for the isotope {sym}-{n}")
    return counts


def material(spec) -> Material:
    """The isotopes of a material: a formula string (``"CsI"``, ``"Ar"``, ``"C9H12"``, ``"CaWO4"``) or a
    table of counts per formula unit whose keys are elements (natural mix) or isotopes (``{Cs = 1, I = 1}``,
    ``{H1 = 12, C = 9}``).  Returns a :class:`Material`: ``(isotope, number fraction, nuclear mass [MeV])``
    per isotope, fractions summing to 1."""
    if isinstance(spec, str):
        counts, name = parse_formula(spec), spec.strip()
    elif isinstance(spec, dict):
        if not spec:
            raise NudmsimError("material table is empty: give counts such as { Cs = 1, I = 1 }")
        counts, name = {}, "{" + ", ".join(f"{k} = {v}" for k, v in spec.items()) + "}"
        for key, n in spec.items():
            if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n <= 0:
                raise NudmsimError(f"material {name}: the count of {key} must be a number > 0, got {n!r}")
            counts[key] = float(n)
    else:
        raise NudmsimError(f"material {spec!r}: give a formula ('CsI') or a table of counts ({{Cs = 1, I = 1}})")
    atoms: dict[str, tuple[Nucleus, float]] = {}       # isotope name -> (isotope, atoms per formula unit)
    for key, n in counts.items():
        if not isinstance(key, str) or not key:
            raise NudmsimError(f"material {name}: {key!r} is not an element or isotope")
        for iso in parse_target(key):
            prev = atoms.get(iso.name, (iso, 0.0))[1]
            atoms[iso.name] = (iso, prev + n * iso.abundance)
    total = sum(k for _, k in atoms.values())
    formula_mass = sum(k * iso.atomic_mass for iso, k in atoms.values())
    comps = [Component(iso, k / total, iso.mass) for iso, k in atoms.values()]   # formula order, then A
    return Material(comps, name, total, formula_mass)


def n_targets(spec, mass_kg: float) -> np.ndarray:
    """Nuclei of each isotope of :func:`material` ``(spec)`` in ``mass_kg`` kilograms."""
    return material(spec).n_targets(mass_kg)
