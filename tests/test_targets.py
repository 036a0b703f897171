"""Targets: natural elements, materials from formulas or counts, nuclei per kg.

Independent references: IUPAC 2021 standard atomic weights (Prohaska et al., Pure Appl. Chem. 94 (2022) 573,
abridged values and intervals, typed in here from that table, not from nudmsim's isotope table) and the exact
SI Avogadro constant for closed-form nuclei counts."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nudmsim import constants as c, targets
from nudmsim.errors import NudmsimError

N_A = 6.02214076e23          # exact (SI 2019), per mol
# IUPAC 2021 standard atomic weights: (value, half-width) -- the interval of the table for elements with one,
# else the stated uncertainty; argon: atmospheric argon 39.948(1) (Meija et al. 2016, the composition used).
STANDARD_WEIGHTS = {
    "H": (1.007975, 0.000135), "He": (4.002602, 0.000002), "C": (12.0106, 0.0010), "N": (14.006855, 0.000425),
    "O": (15.9994, 0.00037), "F": (18.998403162, 0.000000005), "Ne": (20.1797, 0.0006),
    "Na": (22.98976928, 0.00000002), "Al": (26.9815384, 0.0000003), "Si": (28.085, 0.001),
    "S": (32.0675, 0.0085), "Cl": (35.4515, 0.0055), "Ar": (39.948, 0.001), "K": (39.0983, 0.0001),
    "Ca": (40.078, 0.004), "Ge": (72.630, 0.008), "I": (126.90447, 0.00003), "Xe": (131.293, 0.006),
    "Cs": (132.90545196, 0.00000006), "W": (183.84, 0.01),
}
NEEDED = ("H", "C", "N", "O", "F", "Na", "Si", "Ar", "Ge", "I", "Cs", "Xe", "W", "Ca", "S")


def test_every_element_a_cevns_or_dd_user_needs_is_tabulated():
    assert set(NEEDED) <= set(targets.elements())
    assert set(targets.elements()) == set(STANDARD_WEIGHTS)


@pytest.mark.parametrize("symbol", sorted(STANDARD_WEIGHTS))
def test_abundances_sum_to_one_and_reproduce_the_standard_atomic_weight(symbol):
    isos = targets.element(symbol)
    raw = sum(ab for _, _, ab in targets._ISOTOPES[symbol][1])
    assert raw == pytest.approx(1.0, abs=2e-6)        # the table itself, not only after normalising
    assert sum(i.abundance for i in isos) == pytest.approx(1.0, abs=1e-12)
    weight, half = STANDARD_WEIGHTS[symbol]
    assert abs(targets.molar_mass(isos) / c.AMU - weight) <= half
    assert all(i.Z == isos[0].Z and i.mass > 0 for i in isos)
    assert len({i.A for i in isos}) == len(isos)


def test_natural_argon_and_germanium():
    ar = targets.material("Ar")
    assert [comp.isotope.name for comp in ar] == ["Ar36", "Ar38", "Ar40"]
    assert sum(ar.fractions) == pytest.approx(1.0, abs=1e-12)
    assert ar.fractions[-1] == pytest.approx(0.996035, abs=1e-9)   # atmospheric Ar-40
    ge = targets.material("Ge")
    assert sum(ge.fractions) == pytest.approx(1.0, abs=1e-12)
    assert dict((comp.isotope.A, comp.fraction) for comp in ge)[74] == pytest.approx(0.3650, abs=1e-9)
    # the mean mass number of natural Ge from its standard weight: <A> ~ 72.63 - mass defects (~0.07)
    assert sum(ge.fractions * [comp.isotope.A for comp in ge]) == pytest.approx(72.7, abs=0.05)


def test_csi_nuclei_per_kg_closed_form():
    m = targets.material("CsI")
    n = m.n_targets(1.0)
    # closed form: 1000 g / (M_Cs + M_I) g/mol x N_A of each, with the AME2020 atomic masses of the isotopes
    closed = 1000.0 / (132.905451959 + 126.904473) * N_A
    assert n == pytest.approx([closed, closed], rel=1e-9)
    # and with the standard atomic weights (a second, rounder reference)
    assert n[0] == pytest.approx(1000.0 / (132.90545196 + 126.90447) * N_A, rel=1e-7)
    assert m.n_targets(14.57) == pytest.approx(14.57 * n, rel=1e-12)


def test_formula_and_table_forms_agree():
    a, b = targets.material("CsI"), targets.material({"Cs": 1, "I": 1})
    assert [x.isotope.name for x in a] == [x.isotope.name for x in b]
    assert np.allclose(a.fractions, b.fractions) and a.formula_mass == pytest.approx(b.formula_mass, rel=1e-15)
    pc = targets.material("C9H12")
    h = sum(comp.fraction for comp in pc if comp.isotope.symbol == "H")
    assert h == pytest.approx(12 / 21, rel=1e-12)
    # isotope keys: free protons only (no deuterium) and natural carbon
    iso = targets.material({"H1": 12, "C": 9})
    assert {comp.isotope.name for comp in iso} == {"H1", "C12", "C13"}
    cawo4 = targets.material("CaWO4")
    assert sum(comp.fraction for comp in cawo4 if comp.isotope.symbol == "O") == pytest.approx(4 / 6, rel=1e-12)
    # unit formula mass in u = the sum of the standard weights
    want = STANDARD_WEIGHTS["Ca"][0] + STANDARD_WEIGHTS["W"][0] + 4 * STANDARD_WEIGHTS["O"][0]
    assert cawo4.formula_mass / c.AMU == pytest.approx(want, abs=0.02)
    # unpacks as (isotope, number fraction, mass)
    for iso_, frac, mass in targets.material("NaI"):
        assert frac == 0.5 and mass == iso_.mass


@pytest.mark.parametrize("spec, match", [
    ("csi", "not a chemical formula"), ("CsI2x", "not a chemical formula at 'x'"), ("Qq", "unknown element 'Qq'"),
    ("Xe131", "ambiguous.*Xe131 = 1"), ("H2", "ambiguous"), ("", "chemical formula"), ({}, "empty"),
    ({"Cs": 0}, "must be a number > 0"), ({"Cs": float("nan")}, "must be a number > 0"), ({"Cs": True}, "> 0"),
    ({"Xe999": 1}, "not in the table"), ({"Cx": 1}, "did you mean"), (3.0, "give a formula"),
])
def test_bad_materials_are_one_line_errors(spec, match):
    with pytest.raises(NudmsimError, match=match) as e:
        targets.material(spec)
    assert "\n" not in str(e.value)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(STANDARD_WEIGHTS)), st.integers(1, 20), min_size=1, max_size=4),
       st.floats(0.001, 1e4))
def test_random_formulas(counts, mass_kg):
    formula = "".join(f"{k}{v}" for k, v in counts.items())
    try:
        m = targets.material(formula)
    except NudmsimError as exc:           # one-element formulas with a count equal to a mass number
        assert "ambiguous" in str(exc) and len(counts) == 1
        return
    assert sum(m.fractions) == pytest.approx(1.0, abs=1e-12)
    assert m.atoms_per_formula == pytest.approx(sum(counts.values()), rel=1e-12)
    # total nuclei = mass / formula mass x atoms per formula, and the formula mass ~ sum of standard weights
    want_u = sum(n * STANDARD_WEIGHTS[s][0] for s, n in counts.items())
    assert m.formula_mass / c.AMU == pytest.approx(want_u, rel=2e-4)
    total = m.n_targets(mass_kg).sum()
    assert total == pytest.approx(mass_kg * 1000.0 / (m.formula_mass / c.AMU) * N_A * m.atoms_per_formula,
                                  rel=1e-9)
    assert math.isfinite(total)
