"""Strict cards, part 2: source cards found next to the detector card, protons on target, materials in a card,
the schema registry hooks (new kinds, [[response]] stage tables) and the generated card reference."""
from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

from card_helpers import ROOT, _COUNTER, dump_toml
from nudmsim import cards, constants as c
from nudmsim.errors import CardError
from nudmsim.schema import Section


# ------------------------------------------------------------------------------------------------
# sources next to the detector card, protons on target, materials
# ------------------------------------------------------------------------------------------------
def _coherent_variant(tmp_path, folder="det", **changes):
    data = copy.deepcopy(cards.load_detector("coherent_csi_2017").data)
    for key, value in changes.items():
        table, k = key.split("__")
        if value is None:
            data[table].pop(k, None)
        else:
            data[table][k] = value
    d = tmp_path / folder
    d.mkdir(exist_ok=True)
    p = d / "det.toml"
    p.write_text(dump_toml(data))
    return p


def test_source_card_next_to_the_detector_card_wins(tmp_path, monkeypatch):
    from nudmsim.analyses import _coherent_physics as cp

    sns_text = cards.load_source("sns").text
    det = _coherent_variant(tmp_path)
    envdir = tmp_path / "env"
    envdir.mkdir()
    (envdir / "sns.toml").write_text(sns_text.replace("proton_kinetic_energy_GeV = 1.0", "proton_kinetic_energy_GeV = 0.5"))
    monkeypatch.setenv("NUDMSIM_CARD_PATH", str(envdir))
    st_env = cp.setup(cards.load_detector(det))
    assert Path(st_env.source.info["source_path"]) == envdir / "sns.toml"       # $NUDMSIM_CARD_PATH before fluxes/
    (det.parent / "sns.toml").write_text(sns_text.replace("proton_kinetic_energy_GeV = 1.0",
                                                          "proton_kinetic_energy_GeV = 0.25"))
    det2 = _coherent_variant(tmp_path)            # new content hash: not the cached setup
    det2.write_text(det2.read_text() + "# moved\n")
    st_near = cp.setup(cards.load_detector(det2))
    assert Path(st_near.source.info["source_path"]) == det.parent / "sns.toml"   # the card's folder first
    assert st_near.source.n_pot == pytest.approx(2 * st_env.source.n_pot, rel=1e-12)   # T_p 0.25 vs 0.5 GeV
    monkeypatch.delenv("NUDMSIM_CARD_PATH")
    missing = _coherent_variant(tmp_path, "other", source__card="snss")
    with pytest.raises(CardError, match="source.card.*names source card 'snss', which was not found.*did you mean 'sns'"):
        cp.setup(cards.load_detector(missing))


def test_protons_on_target_directly(tmp_path):
    from nudmsim.analyses import _coherent_physics as cp, coherent

    ref = cards.load_detector("coherent_csi_2017")
    st_ref = cp.setup(ref)
    pot = 7.47594 * c.GWH / (1.0 * c.GeV)       # the same exposure: 7.47594 GWh of 1 GeV protons
    card = cards.load_detector(_coherent_variant(tmp_path, source__beam_energy_GWh=None, source__protons_on_target=pot))
    st_pot = cp.setup(card)
    assert st_pot.source.n_pot == pot and st_pot.source.info["exposure_given_as"] == "protons_on_target"
    assert st_pot.source.n_pot == pytest.approx(st_ref.source.n_pot, rel=1e-12)
    tmpl_ref = coherent.pe_time_template("cevns", {}, ref)["accepted"].sum()
    tmpl_pot = coherent.pe_time_template("cevns", {}, card)["accepted"].sum()
    assert tmpl_pot == pytest.approx(tmpl_ref, rel=1e-12) and tmpl_ref > 100
    # half the protons: half the events (the rate is linear in N_POT)
    half = cards.load_detector(_coherent_variant(tmp_path, "half", source__beam_energy_GWh=None,
                                                 source__protons_on_target=pot / 2))
    assert coherent.pe_time_template("cevns", {}, half)["accepted"].sum() == pytest.approx(tmpl_ref / 2, rel=1e-12)
    for changes, match in (
        (dict(source__protons_on_target=pot), "give exactly one of beam_energy_GWh, protons_on_target "
                                              r"\(got beam_energy_GWh, protons_on_target\)"),
        (dict(source__beam_energy_GWh=None), "give exactly one of beam_energy_GWh, protons_on_target$"),
        (dict(source__beam_energy_GWh=None, source__protons_on_target=pot, source__proton_kinetic_energy_GeV=1.0),
         "proton_kinetic_energy_GeV': only converts beam_energy_GWh"),
        (dict(source__beam_energy_GWh=None, source__protons_on_target=-1.0), "protons_on_target': must be > 0"),
    ):
        with pytest.raises(CardError, match=match):
            cards.load_detector(_coherent_variant(tmp_path, f"x{next(_COUNTER)}", **changes))


def test_material_in_a_coherent_card_equals_explicit_isotopes(tmp_path):
    from nudmsim.analyses import _coherent_physics as cp

    ref = cp.setup(cards.load_detector("coherent_csi_2017"))
    for material in ("CsI", {"Cs": 1, "I": 1}):
        card = cards.load_detector(_coherent_variant(tmp_path, f"m{next(_COUNTER)}", target__isotopes=None,
                                                     target__atoms_per_molecule=None, target__material=material))
        st_m = cp.setup(card)
        assert [n.name for n in st_m.nuclei] == [n.name for n in ref.nuclei]
        assert st_m.n_targets == pytest.approx(ref.n_targets, rel=1e-12)
    ar = cp.setup(cards.load_detector(_coherent_variant(tmp_path, "ar", target__isotopes=None,
                                                        target__atoms_per_molecule=None, target__material="Ar")))
    assert [n.name for n in ar.nuclei] == ["Ar36", "Ar38", "Ar40"]
    # 14.57 kg of natural argon: N = M / <m_atom> with <m_atom> the standard atomic weight 39.948 u
    assert ar.n_targets.sum() == pytest.approx(14.57e3 / 39.948 * 6.02214076e23, rel=2e-5)
    with pytest.raises(CardError, match="give exactly one of material, isotopes"):
        cards.load_detector(_coherent_variant(tmp_path, "both", target__material="CsI"))


# ------------------------------------------------------------------------------------------------
# schema registry and the generated reference
# ------------------------------------------------------------------------------------------------
def test_register_card_schema_hook_for_new_kinds(tmp_path):
    from nudmsim.schema import Field

    toy = Section("target", "toy", fields=(Field("material", str), Field("mass_kg", float, lo=0, lo_open=True)))
    cards.register_card_schema("toy_experiment_test", [toy, Field("response", list, item=dict, default=[],
                                                                  doc="response stages")], doc="test kind")
    try:
        p = tmp_path / "toy.toml"
        p.write_text('[card]\nname = "toy"\ndescription = "d"\nkind = "toy_experiment_test"\n'
                     '[target]\nmaterial = "Ar"\nmass_kg = 1\n[[response]]\nstage = "x"\nmodel = "y"\n')
        card = cards.load_detector(p)
        assert card.values["response"] == [{"stage": "x", "model": "y"}] and card.number("target.mass_kg") == 1.0
        p.write_text(p.read_text().replace("[[response]]", "[[respons]]"))
        with pytest.raises(CardError, match="key 'respons': is not a valid key.*did you mean 'response'"):
            cards.load_detector(p)
        with pytest.raises(ValueError, match="registered twice"):
            cards.register_card_schema("toy_experiment_test", [toy])
    finally:
        cards.CARD_SCHEMAS.pop("toy_experiment_test")


def test_card_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_card_reference", ROOT / "tools" / "make_card_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = mod.render()
    assert (ROOT / "docs" / "card_reference.md").read_text() == text, \
        "docs/card_reference.md is out of date: run python tools/make_card_reference.py"
    for kind, schema in cards.card_schemas().items():    # every kind and every key is documented
        assert f'kind = "{kind}"' in text
        for key in schema.keys():
            assert f"`{key.split('.')[-1]}`" in text or f"`[{key}]`" in text, key


def test_response_stage_tables_validated_at_load(tmp_path):
    """The hook an experiment card uses: [[response]] tables checked per stage type at load, and the reference
    generator lists registered stages."""
    from nudmsim.response import stage as stg
    from nudmsim.schema import Field

    class Gain:
        family, model, doc = "testgain", "linear", "multiply a column by a gain"
        schema = Section("gain", fields=(Field("on", str, doc="input column"),
                                         Field("gain", float, lo=0, doc="the factor")))

    stg.register_stage(Gain)
    target = Section("target", "toy", fields=(Field("material", str),))
    cards.register_card_schema("toy_stage_test", [target, Field("response", list, item=dict, doc="stages")],
                               check=cards.validate_stage_tables)
    try:
        p = tmp_path / "toy.toml"
        head = '[card]\nname = "t"\ndescription = "d"\nkind = "toy_stage_test"\n[target]\nmaterial = "Ar"\n'
        p.write_text(head + '[[response]]\nstage = "testgain"\nmodel = "linear"\non = "E_keV"\ngain = 2\n')
        assert cards.load_detector(p).values["response"][0]["gain"] == 2
        for body, match in (('on = "E_keV"\ngain = -1\n', r"key 'response\[0\].gain': must be >= 0"),
                            ('on = "E_keV"\ngian = 2\n', r"key 'response\[0\].gian'.*did you mean 'gain'"),
                            ('on = "E_keV"\ngain = nan\n', r"key 'response\[0\].gain': is nan")):
            p.write_text(head + '[[response]]\nstage = "testgain"\nmodel = "linear"\n' + body)
            with pytest.raises(CardError, match=match):
                cards.load_detector(p)
        p.write_text(head + '[[response]]\nstage = "testgain"\nmodel = "linaer"\non = "E"\ngain = 1\n')
        with pytest.raises(CardError, match=r"response\[0\].model.*did you mean 'linear'"):
            cards.load_detector(p)
        spec = importlib.util.spec_from_file_location("mcr", ROOT / "tools" / "make_card_reference.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        text = mod.render()
        assert '`stage = "testgain"`, `model = "linear"`' in text and "| `gain` | number |" in text
    finally:
        stg.STAGES.pop(("testgain", "linear"))
        cards.CARD_SCHEMAS.pop("toy_stage_test")
