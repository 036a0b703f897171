"""Strict cards: every shipped card validated against its declared schema, every key the code reads declared,
mutated copies refused with a one-line error naming the file and the key (library and command line).
(Tables: test_cards_tables.py; source lookup, POT, materials, hooks, reference: test_cards_lookup.py.)

Every mutation test starts from a shipped card that loads, changes one thing, and checks the message: the
file, the dotted key, the nearest valid key for a typo.  The hypothesis test mutates shipped cards at random
and builds what the analyses build from them: a clean NudmsimError or a valid object, never another exception.
"""
from __future__ import annotations

import copy
import math
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from card_helpers import (ROOT, SHIPPED, build, get_path, is_number_field, mutate_csv, one_line, present_fields,
                          set_path, write_card)
from nudmsim import cards
from nudmsim.errors import CardError, NudmsimError


# ------------------------------------------------------------------------------------------------
# every shipped card loads, and every key the code reads is declared
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role, name", SHIPPED)
def test_shipped_card_loads_and_builds(role, name):
    card = cards.load(name, role)
    assert cards.card_schema(card.card_kind).role == role
    build(card)


def test_every_read_key_is_declared(monkeypatch):
    """Run every builder on every shipped card (and the alternative model paths) while recording the keys the
    code looks up: each must be a declared key of that card's kind."""
    from nudmsim.sources import sns

    seen: dict[str, set] = {}
    original = cards.Card._lookup

    def recording(self, key, default):
        seen.setdefault(self.values["card"]["kind"], set()).add(key)
        return original(self, key, default)

    monkeypatch.setattr(cards.Card, "_lookup", recording)
    for role, name in SHIPPED:
        card = cards.load(name, role)
        build(card)
        if card.card_kind == "pi_dar":
            sns.load_timing(card, "physical")
    assert len(seen) >= 9, sorted(seen)      # every kind but possibly experiment (read through validated dicts)
    for kind, keys in seen.items():
        declared = cards.card_schema(kind).keys()
        assert keys - set(declared) == set(), kind


_READ = re.compile(r"""(?:\.(?:number|get|array|has|relative_file|read_table|read_file|find_card|load_card|table)"""
                   r"""|_card_number|_table)\(\s*(?:[\w.]+,\s*)?(f?)"([a-z{][^"]*\.[^"]*)\"""")
_EDGES = re.compile(r'_edges\(card, "([^"]+)", "([^"]+)", "([^"]+)"\)')


def test_literal_keys_in_the_code_are_declared():
    """Parse the code's literal card keys (f-string parts as wildcards): each names a declared key of some kind."""
    from nudmsim.analysis_card import ANALYSIS
    from nudmsim.schema import dotted_keys
    from nudmsim.sources import SOURCE_KINDS, source_kind

    declared = set()
    for kind, schema in cards.card_schemas().items():
        declared |= set(schema.keys())
    source_kind("pi_dar")                        # experiment cards: [source] by its source kind, [analysis]
    for sk in SOURCE_KINDS.values():
        declared |= set(dotted_keys(sk.schema, "source"))
    declared |= set(dotted_keys(ANALYSIS, "analysis"))
    found = []
    for path in (ROOT / "nudmsim").rglob("*.py"):
        if "card_schemas" in path.parts:
            continue
        text = path.read_text()
        keys = [(m.group(2), bool(m.group(1))) for m in _READ.finditer(text)]
        keys += [(k, False) for m in _EDGES.finditer(text) for k in m.groups()]
        for key, fstring in keys:
            pattern = re.escape(key)
            if fstring:
                pattern = re.sub(r"\\\{[^}]*\\\}", r"[A-Za-z0-9_.]+", pattern)
            found.append((path.name, key))
            assert any(re.fullmatch(pattern, k) for k in declared), f"{path.name}: '{key}' is read but declared nowhere"
    # the parser sees the readers (sanity of the regex itself): every reader form in a synthetic line, and the
    # code's own reads (fewer as analyses move onto experiment cards, whose keys are schema-validated: the W move took ~25)
    forms = ("number", "get", "array", "has", "relative_file", "read_table", "read_file", "find_card", "load_card",
             "table")
    for form in forms:
        assert [m.group(2) for m in _READ.finditer(f'card.{form}("a.b", x)\ncard.{form}(f"a.{{k}}")')] == \
            ["a.b", "a.{k}"], form
    assert [m.group(2) for m in _READ.finditer('_card_number(card, "c.d", 1.0)')] == ["c.d"]
    assert _EDGES.findall('_edges(card, "e.lo", "e.hi", "e.n")') == [("e.lo", "e.hi", "e.n")]
    assert len(found) > 50 and ("cards.py", "target.mass_kg") in found


# ------------------------------------------------------------------------------------------------
# mutated copies: (a) unknown key, (b) mistyped key, (c) string for a number, (d) NaN, (f) not UTF-8
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role, name", SHIPPED)
def test_unknown_key_and_table(role, name, tmp_path):
    card = cards.load(name, role)
    table = next(k for k, v in card.data.items() if isinstance(v, dict) and k != "card")
    data = copy.deepcopy(card.data)
    data[table]["bogus_key"] = 1.0
    p = write_card(tmp_path, data)
    with pytest.raises(CardError) as e:
        cards.load(p, role)
    assert f"{p}: key '{table}.bogus_key': is not a valid key" in one_line(e.value)
    data = copy.deepcopy(card.data)
    data["bogus_table"] = {"x": 1}
    with pytest.raises(CardError, match=r"key 'bogus_table': is not a valid key"):
        cards.load(write_card(tmp_path, data), role)


@pytest.mark.parametrize("role, name", SHIPPED)
def test_mistyped_key_names_the_right_one(role, name, tmp_path):
    """Every key of the card, mistyped (a doubled letter), is refused with 'did you mean' the right key."""
    card = cards.load(name, role)
    for dotted in present_fields(card):
        *head, key = dotted.split(".")
        typo = key[: len(key) // 2] + key[len(key) // 2] + key[len(key) // 2:]
        data = copy.deepcopy(card.data)
        parent = get_path(data, ".".join(head)) if head else data
        parent[typo] = parent.pop(key)
        p = write_card(tmp_path, data)
        with pytest.raises(CardError) as e:
            cards.load(p, role)
        msg = one_line(e.value)
        where = ".".join([*head, typo])
        assert str(p) in msg and f"key '{where}': is not a valid key" in msg and f"did you mean '{key}'?" in msg, msg


@pytest.mark.parametrize("role, name", SHIPPED)
def test_string_and_nan_where_a_number_belongs(role, name, tmp_path):
    card = cards.load(name, role)
    numbers = [k for k, f in present_fields(card).items() if is_number_field(f) and f.type is not list]
    lists = [k for k, f in present_fields(card).items() if f.type is list and f.item is None and f.ndim == 1
             and get_path(card.data, k)]
    assert numbers or card.card_kind == "pi_dar" and not lists or lists
    for key in numbers:
        for bad, match in (("12 keV", r"must be a number.*got string '12 keV'"), (math.nan, "is nan"),
                           (math.inf, "is inf"), (True, "must be a number.*got true/false")):
            data = copy.deepcopy(card.data)
            set_path(data, key, bad)
            p = write_card(tmp_path, data)
            with pytest.raises(CardError) as e:
                cards.load(p, role)
            msg = one_line(e.value)
            assert f"{p}: key '{key}'" in msg and re.search(match, msg), msg
    for key in lists:
        data = copy.deepcopy(card.data)
        get_path(data, key)[0] = math.nan
        p = write_card(tmp_path, data)
        with pytest.raises(CardError, match=re.escape(f"key '{key}[0]': is nan")):
            cards.load(p, role)


@pytest.mark.parametrize("role, name", SHIPPED)
def test_not_utf8(role, name, tmp_path):
    text = cards.load(name, role).text.encode()
    p = tmp_path / "latin1.toml"
    p.write_bytes(b"# d\xe9tecteur (Latin-1)\n" + text)
    with pytest.raises(CardError) as e:
        cards.load(p, role)
    assert one_line(e.value) == f"{p}: is not UTF-8 text (byte 0xe9 on line 1) (save the card as UTF-8)"


def test_directory_and_wrong_role(tmp_path):
    (tmp_path / "adir.toml").mkdir()
    for arg in (tmp_path / "adir.toml", tmp_path):
        with pytest.raises(NudmsimError, match="is a directory"):
            cards.load_detector(str(arg))
    with pytest.raises(CardError, match="card.kind.*'pi_dar', a source card, not a detector card"):
        cards.load_detector(str(ROOT / "fluxes" / "sns.toml"))
    data = copy.deepcopy(cards.load_source("sns").data)
    data["card"]["kind"] = "pi-dar"
    with pytest.raises(CardError, match="did you mean 'pi_dar'"):
        cards.load_source(write_card(tmp_path, data))


def test_model_dependent_and_cross_key_checks(tmp_path):
    base = cards.load_detector("coherent_csi_2017").data
    cases = [   # experiment card: [target] and [source] (by the source kind's schema) checked at load
        ("target.form_factor", "helmm", r"target.form_factor': is 'helmm' \(did you mean 'helm'"),
        ("target.composition", {"Cs": 1, "I": 1}, r"key 'target': give exactly one of material, composition"),
        ("target.mass_kg", -1.0, r"target.mass_kg': must be > 0 \(in kg\), got -1"),
        ("source.beam_energy_GWh", 7.47594, r"key 'source': give exactly one of"),
        ("source.baseline_mm", 19.3, r"source.baseline_mm': is not a valid key \(did you mean 'baseline_m'"),
        ("source.nu_per_flavour_per_proton", "0.08", r"nu_per_flavour_per_proton': must be a number"),
    ]
    for key, value, match in cases:
        data = copy.deepcopy(base)
        set_path(data, key, value)
        with pytest.raises(CardError, match=match):
            cards.load_detector(write_card(tmp_path, data))
    xe = copy.deepcopy(cards.load_detector("xenon1t_2018").data)
    xe["target"]["single_nucleus_A"] = 0.5        # the release's effective nucleus below one nucleon
    with pytest.raises(CardError, match=r"target.single_nucleus_A': must be >= 1"):
        cards.load_detector(write_card(tmp_path, xe))
    xe["target"]["single_nucleus_A"] = "131.293"  # a string for the number
    with pytest.raises(CardError, match=r"target.single_nucleus_A': must be a number"):
        cards.load_detector(write_card(tmp_path, xe))
    cosmo = copy.deepcopy(cards.load_detector("cosmology").data)
    cosmo["relic"]["omega_dm_h2"] = -0.12         # was a math domain error deep in the solver
    with pytest.raises(CardError, match=r"relic.omega_dm_h2': must be > 0"):
        cards.load_detector(write_card(tmp_path, cosmo))
    na62 = copy.deepcopy(cards.load_detector("na62").data)
    bkg = [s for s in na62["analysis"]["sample"] if s["name"] == "background"][0]
    bkg["parametric"]["indx"] = bkg["parametric"].pop("index")      # a misspelt shape parameter
    p = write_card(tmp_path, na62, "na62.toml")
    from nudmsim.experiment import Experiment
    with pytest.raises(CardError, match=r"parametric.indx': is not a parameter of power_law"):
        Experiment(cards.load_detector(p))


# ------------------------------------------------------------------------------------------------
# the command line: exit 2, one line, no traceback, the file and the key named
# ------------------------------------------------------------------------------------------------
def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nudmsim", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_refuses_bad_cards(tmp_path):
    base = cards.load_detector("coherent_csi_2017")
    text = base.text
    sns = cards.load_source("sns")
    bad_pdf = tmp_path / "pdf_ragged.csv"
    mutate_csv(sns.relative_file("timing.pdf_file"), bad_pdf, "ragged", None, None)
    (tmp_path / "near").mkdir()
    (tmp_path / "near" / "sns.toml").write_text(
        sns.text.replace('pdf_file = "coherent_csi_2017/csi2018_arrival_time_pdfs.csv"', f'pdf_file = "{bad_pdf}"'))
    cases = {
        "unknown.toml": (text.replace("baseline_m = 19.3", "baseline_m = 19.3\nbaseline_mm = 19300"),
                         "key 'source.baseline_mm': is not a valid key (did you mean 'baseline_m'?)"),
        "typo.toml": (text.replace('[target]\nmaterial = "CsI"', '[target]\nmaterail = "CsI"'),
                      "key 'target.materail': is not a valid key (did you mean 'material'?)"),
        "string.toml": (text.replace("mass_kg = 14.57", 'mass_kg = "14.57 kg"'),
                        "key 'target.mass_kg': must be a number (in kg), got string '14.57 kg'"),
        "nan.toml": (text.replace("baseline_m = 19.3", "baseline_m = nan"), "key 'source.baseline_m': is nan"),
        "both.toml": (text.replace("protons_on_target = 1.76e23", "protons_on_target = 1.76e23\nbeam_energy_GWh = 7.47594"),
                      "key 'source': give exactly one of protons_on_target, beam_energy_GWh"),
        "near/table.toml": (text, "key 'timing.pdf_file'"),
    }
    for name, (content, expect) in cases.items():
        p = tmp_path / name
        p.write_text(content)
        r = _cli("predict", "cevns", "-d", str(p), cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
        assert expect in r.stderr, (name, r.stderr)
        assert (str(p) if name != "near/table.toml" else str(tmp_path / "near" / "sns.toml")) in r.stderr
    (tmp_path / "latin1.toml").write_bytes(b"# d\xe9tecteur\n" + text.encode())
    (tmp_path / "adir.toml").mkdir()
    for name, expect in (("latin1.toml", "is not UTF-8 text"), ("adir.toml", "is a folder, not a card")):
        r = _cli("predict", "cevns", "-d", str(tmp_path / name), cwd=tmp_path)
        assert r.returncode == 2 and expect in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr


# ------------------------------------------------------------------------------------------------
# hypothesis: random mutations of shipped cards end in a NudmsimError or a valid build
# ------------------------------------------------------------------------------------------------
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_CHXe0123456789", max_size=12),
    st.lists(st.floats(-1e3, 1e3), max_size=4), st.lists(st.text(alphabet="CsIXe0123456789", max_size=6), max_size=3),
    st.builds(dict), st.builds(lambda: [[1.0, 2.0]]), st.just(0.0), st.just(-1.0), st.just(1e300),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_cards_never_crash(tmp_path, data):
    role, name = data.draw(st.sampled_from(SHIPPED))
    card = cards.load(name, role)
    mutated = copy.deepcopy(card.data)
    keys = sorted(present_fields(card))
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["delete", "insert", "retype", "retype"]))
        key = data.draw(st.sampled_from(keys))
        *head, last = key.split(".")
        try:
            parent = get_path(mutated, ".".join(head)) if head else mutated
        except (KeyError, TypeError):
            continue
        if not isinstance(parent, dict):
            continue
        if op == "delete":
            parent.pop(last, None)
        elif op == "insert":
            parent[data.draw(st.sampled_from(["extra", last + "s", last[:-1] or "x"]))] = data.draw(_VALUES)
        else:
            parent[last] = data.draw(_VALUES)
    p = write_card(tmp_path, mutated, f"{name}.toml")
    try:
        loaded = cards.load(p, role)
    except NudmsimError as exc:
        one_line(exc)
        return
    try:
        build(loaded)
    except NudmsimError as exc:
        one_line(exc)


