"""Strict cards, part 2: source cards found next to the detector card, protons on target, materials in a card,
the schema registry hooks (new kinds, [[response]] stage tables) and the generated card reference."""
from __future__ import annotations

import copy
import importlib.util

import pytest

from card_helpers import ROOT, _COUNTER, dump_toml
from nudmsim import cards, constants as c
from nudmsim.errors import CardError, NudmsimError
from nudmsim.paths import resource_dir
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


def _gwh_variant(tmp_path, folder="det", **changes):
    """The 2017 card with its exposure as beam energy (7.47594 GWh, the release's) instead of protons on target."""
    return _coherent_variant(tmp_path, folder, source__protons_on_target=None, source__beam_energy_GWh=7.47594,
                             **changes)


def _experiment(path):
    from nudmsim.experiment import Experiment

    return Experiment(cards.load_detector(path))


def test_source_card_next_to_the_detector_card_wins(tmp_path, monkeypatch):
    sns_text = cards.load_source("sns").text
    det = _gwh_variant(tmp_path)            # the GWh -> POT conversion uses the source card's proton energy
    assert _experiment(det).source_card.path == resource_dir("fluxes") / "sns.toml"     # fluxes/ last
    envdir = tmp_path / "env"
    envdir.mkdir()
    (envdir / "sns.toml").write_text(sns_text.replace("proton_kinetic_energy_GeV = 1.0", "proton_kinetic_energy_GeV = 0.5"))
    monkeypatch.setenv("NUDMSIM_CARD_PATH", str(envdir))
    exp_env = _experiment(det)
    assert exp_env.source_card.path == envdir / "sns.toml"                                 # $NUDMSIM_CARD_PATH
    (det.parent / "sns.toml").write_text(sns_text.replace("proton_kinetic_energy_GeV = 1.0",
                                                          "proton_kinetic_energy_GeV = 0.25"))
    exp_near = _experiment(det)
    assert exp_near.source_card.path == det.parent / "sns.toml"                            # the card's folder first
    assert exp_near.source.n_pot == pytest.approx(2 * exp_env.source.n_pot, rel=1e-12)     # T_p 0.25 vs 0.5 GeV
    monkeypatch.delenv("NUDMSIM_CARD_PATH")
    missing = _coherent_variant(tmp_path, "other", source__card="snss")
    with pytest.raises(NudmsimError, match="unknown source 'snss'.*did you mean 'sns'"):
        cards.load_detector(missing)


def test_protons_on_target_directly(tmp_path):
    ref = _experiment(_gwh_variant(tmp_path, "gwh"))
    pot = 7.47594 * c.GWH / (1.0 * c.GeV)       # the same exposure: 7.47594 GWh of 1 GeV protons
    exp = _experiment(_coherent_variant(tmp_path, source__beam_energy_GWh=None, source__protons_on_target=pot))
    assert exp.source.n_pot == pot and exp.source.n_pot == pytest.approx(ref.source.n_pot, rel=1e-12)
    n_ref = ref.expected("cevns").total
    assert exp.expected("cevns").total == pytest.approx(n_ref, rel=1e-12) and n_ref > 100
    # half the protons: half the events (the rate is linear in N_POT)
    half = _experiment(_coherent_variant(tmp_path, "half", source__beam_energy_GWh=None,
                                         source__protons_on_target=pot / 2))
    assert half.expected("cevns").total == pytest.approx(n_ref / 2, rel=1e-12)
    for changes, match in (
        (dict(source__beam_energy_GWh=7.47594), "give exactly one of protons_on_target, beam_energy_GWh "
                                                r"\(got protons_on_target, beam_energy_GWh\)"),
        (dict(source__protons_on_target=None), "give exactly one of protons_on_target, beam_energy_GWh$"),
        (dict(source__beam_energy_GWh=None, source__protons_on_target=-1.0), "protons_on_target': must be > 0"),
    ):
        with pytest.raises(CardError, match=match):
            cards.load_detector(_coherent_variant(tmp_path, f"x{next(_COUNTER)}", **changes))
    both = _coherent_variant(tmp_path, "tp", source__beam_energy_GWh=None, source__protons_on_target=pot,
                             source__proton_kinetic_energy_GeV=1.0)
    with pytest.raises(CardError, match="proton_kinetic_energy_GeV': is not used with protons_on_target"):
        _experiment(both)


def test_material_in_an_experiment_card(tmp_path):
    ref = _experiment("coherent_csi_2017").target                                   # material = "CsI"
    comp = _experiment(_coherent_variant(tmp_path, "comp", target__material=None,
                                         target__composition={"Cs": 1, "I": 1})).target
    assert [n.name for n in comp.nuclei] == [n.name for n in ref.nuclei] == ["Cs133", "I127"]
    assert comp.n_targets == pytest.approx(ref.n_targets, rel=1e-12)
    # closed form: 14.57 kg / (M_Cs + M_I) x N_A nuclei of each, AME2020 atomic masses
    assert ref.n_targets == pytest.approx([14.57e3 / (132.905451959 + 126.904473) * 6.02214076e23] * 2, rel=1e-9)
    ar = _experiment(_coherent_variant(tmp_path, "ar", target__material="Ar")).target
    assert [n.name for n in ar.nuclei] == ["Ar36", "Ar38", "Ar40"]
    # 14.57 kg of natural argon: N = M / <m_atom> with <m_atom> the standard atomic weight 39.948 u
    assert ar.n_targets.sum() == pytest.approx(14.57e3 / 39.948 * 6.02214076e23, rel=2e-5)


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
