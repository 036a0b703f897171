"""Foundations: constants, targets, form factors, cards, registry parameters, ROOT I/O, CLI errors."""
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from nudmsim import cards, constants as c, formfactors, registry, targets
from nudmsim.errors import CardError, NudmsimError, ParameterError
from nudmsim.io import read_root, write_root


def test_constants_from_pdg():
    # independent cross-check against textbook values (not the same source)
    assert c.M_PROTON / c.MeV == pytest.approx(938.272, abs=1e-3)
    assert c.M_MUON == pytest.approx(105.658, abs=1e-3)
    assert c.TAU_MUON / c.ns == pytest.approx(2196.98, rel=1e-5)
    assert c.INV_MEV2_TO_CM2 == pytest.approx(0.3894e-21, rel=1e-3)  # (hbar c)^2 = 0.3894 mb GeV^2


def test_abundances_and_masses():
    xe = targets.element("Xe")
    assert sum(i.abundance for i in xe) == pytest.approx(1.0)
    assert targets.molar_mass(xe) / c.AMU == pytest.approx(131.293, abs=0.002)  # IUPAC standard atomic weight
    cs = targets.isotope("Cs133")
    # nuclear mass ~ A * 931.5 MeV minus a mass excess of -88 MeV
    assert cs.mass == pytest.approx(133 * c.AMU - 88.07 - 55 * c.M_ELECTRON, abs=0.05)
    with pytest.raises(NudmsimError, match="unknown element"):
        targets.element("Qq")


@pytest.mark.parametrize("ff", ["helm", "klein_nystrand"])
def test_form_factor_small_q_radius(ff):
    """F(q) = 1 - q^2 <r^2>/6 + ... : compare the slope with the analytic rms radius of each model."""
    A = 131.0
    fm = formfactors._FM_MEV
    if ff == "helm":
        cc = 1.23 * A ** (1 / 3) - 0.60
        rn2 = cc**2 + 7 / 3 * math.pi**2 * 0.52**2 - 5 * 0.9**2
        r2 = 0.6 * rn2 + 3 * 0.9**2
    else:
        r2 = 0.6 * (1.2 * A ** (1 / 3)) ** 2 + 6 * 0.7**2
    q = np.array([1e-3, 2e-3]) / fm  # q*R << 1
    F = formfactors.get(ff)(q, A)
    slope = (1 - F) / (q**2)
    assert slope == pytest.approx(np.full(2, r2 * fm**2 / 6), rel=2e-3)
    assert formfactors.get(ff)(np.array([0.0]), A)[0] == 1.0


def test_form_factor_first_zero():
    # Helm F has its first zero where j1(q r_n) = 0: q r_n = 4.4934
    A = 131.0
    cc = 1.23 * A ** (1 / 3) - 0.60
    rn = math.sqrt(cc**2 + 7 / 3 * math.pi**2 * 0.52**2 - 5 * 0.9**2) * formfactors._FM_MEV
    assert abs(formfactors.helm(np.array([4.4934094579 / rn]), A)[0]) < 1e-8


def _write(tmp_path, text, name="det.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_card_errors_name_file_and_key(tmp_path):
    halo = '[card]\nname="x"\ndescription="d"\nkind="halo"\n[halo]\nrho_GeV_cm3 = {}\nv0_km_s = 220\n' \
           'v_esc_km_s = 544\nv_earth_km_s = 232\n'
    p = _write(tmp_path, halo.format(-3))
    with pytest.raises(CardError) as e:          # strict cards: refused on load, not when the key is read
        cards.load_source(str(p))
    assert "det.toml" in str(e.value) and "halo.rho_GeV_cm3" in str(e.value) and "must be > 0" in str(e.value)
    card = cards.load_source(str(_write(tmp_path, halo.format(0.3))))
    with pytest.raises(CardError, match="det.toml.*halo.rho_GeV_cm3.*must be <= 0.1"):
        card.number("halo.rho_GeV_cm3", hi=0.1)  # the getters keep their own checks
    with pytest.raises(CardError, match="exposure.days.*missing"):
        card.number("exposure.days")
    assert card.get("halo.model", str) == "shm"  # a default of the schema, not of the code
    no_kind = _write(tmp_path, '[card]\nname="x"\ndescription="d"\n[target]\nmass_kg = 3\n', "nokind.toml")
    with pytest.raises(CardError, match="nokind.toml.*card.kind.*missing.*experiment"):
        cards.load_detector(str(no_kind))
    bad = _write(tmp_path, '[card]\nname = \n', "bad.toml")
    with pytest.raises(CardError, match="bad.toml.*not valid TOML"):
        cards.load_detector(str(bad))
    with pytest.raises(NudmsimError, match="unknown detector 'nope'"):
        cards.load_detector("nope")


@given(st.floats(min_value=1e-3, max_value=1e4), st.sampled_from(["keV", "MeV", "GeV"]))
def test_param_units(value, unit):
    p = registry.Param(1.0, "MeV", "mass")
    got = registry.parse_value("m", f"{value!r}{unit}", p)
    scale = {"keV": 1e-3, "MeV": 1.0, "GeV": 1e3}[unit]
    assert got == pytest.approx(value * scale, rel=1e-12)


def test_param_validation():
    ps = {"m_X": registry.Param(10.0, "MeV", "DM mass", strictly_positive=True)}
    for bad in ("nan", "-1", "0", "abc"):
        with pytest.raises(ParameterError, match="m_X"):
            registry.resolve_params(ps, {"m_X": bad}, "proc")
    with pytest.raises(ParameterError, match="unknown parameter 'mx'"):
        registry.resolve_params(ps, {"mx": "1"}, "proc")


def test_root_roundtrip_and_atomic(tmp_path):
    rng = np.random.default_rng(1)
    ev = {"E": rng.random(1000), "weight": rng.random(1000), "process_id": np.ones(1000, np.int32)}
    out = write_root(tmp_path / "a.root", ev, {"seed": 3, "model": {"m_X": 10.0}, "card_name": "c"})
    back, meta = read_root(out)
    assert np.array_equal(back["E"].to_numpy(), ev["E"]) and meta["seed"] == 3
    with pytest.raises(NudmsimError, match="does not exist"):
        write_root(tmp_path / "nodir" / "b.root", ev, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.root"]  # no temporary left behind


def test_cli_unknown_names_one_line():
    r = subprocess.run([sys.executable, "-m", "nudmsim", "generate", "nope", "-o", "x.root"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "unknown process 'nope'" in r.stderr
    assert "Traceback" not in r.stderr
