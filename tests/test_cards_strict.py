"""Strict cards: every shipped card validated against its declared schema, mutated copies refused with a
one-line error naming the file and the key, tables validated on read, source cards found next to the
detector card, protons on target, the generated card reference up to date.

Every mutation test starts from a shipped card that loads, changes one thing, and checks the message: the
file, the dotted key, the nearest valid key for a typo.  The hypothesis test mutates shipped cards at random
and builds what the analyses build from them: a clean NudmsimError or a valid object, never another exception.
"""
from __future__ import annotations

import copy
import importlib.util
import itertools
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nudmsim import cards, constants as c
from nudmsim.errors import CardError, NudmsimError
from nudmsim.schema import Section, toml_repr

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [("detector", n) for n in cards.available("detector")] + [("source", n) for n in cards.available("source")]
_COUNTER = itertools.count()


# ------------------------------------------------------------------------------------------------
# helpers: write TOML, walk keys, build what the analyses build
# ------------------------------------------------------------------------------------------------
def dump_toml(data: dict) -> str:
    """A TOML document for a parsed card (sub-tables inline)."""
    head = [f"{k} = {toml_repr(v)}" for k, v in data.items() if not isinstance(v, dict)]
    body = []
    for k, v in data.items():
        if isinstance(v, dict):
            body.append(f"[{k}]")
            body += [f"{kk} = {toml_repr(vv)}" for kk, vv in v.items()]
    return "\n".join(head + body) + "\n"


def write_card(tmp_path, data, name="card.toml") -> Path:
    d = tmp_path / f"m{next(_COUNTER)}"
    d.mkdir()
    p = d / name
    p.write_text(dump_toml(data))
    return p


def get_path(d, dotted):
    for part in dotted.split("."):
        d = d[part]
    return d


def set_path(d, dotted, value):
    *head, last = dotted.split(".")
    for part in head:
        d = d[part]
    d[last] = value


def present_fields(card):
    """{dotted key: Field} of the keys this card gives (leaves and tables)."""
    keys = cards.card_schema(card.card_kind).keys()
    out = {}
    for k, f in keys.items():
        try:
            get_path(card.data, k)
        except (KeyError, TypeError):
            continue
        out[k] = f
    return out


def is_number_field(f) -> bool:
    t = f.type if isinstance(f.type, tuple) else (f.type,)
    return float in t and str not in t


def build(card):
    """What the library builds from a card of each kind (source, response, detector, background...)."""
    from nudmsim.analyses import _coherent_physics as cp, _meson_limits as ml, cosmology as cosmo, meson
    from nudmsim.analyses import coherent_fit as cf, w_boson as wb
    from nudmsim.response import dd_detectors as dd
    from nudmsim.sources import halo, meson_beams, pp, sns

    kind = card.card_kind
    if kind == "coherent":
        cp.setup(card)
        if card.has("data"):
            cf.load_release(card)
    elif kind in ("dd-xenon", "dd-scintillator"):
        dd.load(card)
    elif kind == "meson_decay":
        meson._source_and_response(card)
        ml.background_params(card)
    elif kind == "collider_w":
        wb._setup(card)
    elif kind == "cosmology":
        for k in ("lyman_alpha.m_wdm_min_keV", "lyman_alpha.m_f_prefactor_msun", "relic.omega_dm_h2",
                  "couplings.y_q_kaon_bound", "couplings.y_q_thermal", "neff.neff_max"):
            assert math.isfinite(cosmo._card_number(card, k, 1.0))
    elif kind == "pi_dar":
        sns.load_timing(card)
    elif kind == "halo":
        halo.from_card(card)
    elif kind == "meson_source":
        meson_beams.load_meson_source(card)
    elif kind == "pp":
        pp.load_pp_source(str(card.path))
    else:
        raise AssertionError(f"no builder for kind {kind}")


def one_line(exc) -> str:
    msg = str(exc)
    assert "\n" not in msg, msg
    return msg


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
    from nudmsim.response import quenching
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
        if card.card_kind == "coherent":
            quenching.from_card(card, model="fit")
        if card.card_kind == "pi_dar":
            sns.load_timing(card, "physical")
    assert set(seen) == {cards.card_schema(k).kind for k in seen} and len(seen) == 10
    for kind, keys in seen.items():
        declared = cards.card_schema(kind).keys()
        assert keys - set(declared) == set(), kind


_READ = re.compile(r"""(?:\.(?:number|get|array|has|relative_file|read_table|read_file|find_card|load_card|table)"""
                   r"""|_card_number|_table)\(\s*(?:[\w.]+,\s*)?(f?)"([a-z{][^"]*\.[^"]*)\"""")
_EDGES = re.compile(r'_edges\(card, "([^"]+)", "([^"]+)", "([^"]+)"\)')


def test_literal_keys_in_the_code_are_declared():
    """Parse the code's literal card keys (f-string parts as wildcards): each names a declared key of some kind."""
    declared = set()
    for kind, schema in cards.card_schemas().items():
        declared |= set(schema.keys())
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
    assert len(found) > 100   # the parser sees the readers (sanity of the regex itself)


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
    cases = [
        ("response.quenching.model", "table", r"response.quenching.table_file': is missing \(model = 'table' needs it\)"),
        ("binning.pe_max", -1.0, r"binning.pe_max': must be larger than pe_min"),
        ("target.isotopes", ["Cs133", "I128"], r"target.isotopes': isotope 'I128' is not in the table"),
        ("target.atoms_per_molecule", [1.0], r"target.atoms_per_molecule': must have 2 entries"),
        ("target.form_factor", "helmm", r"did you mean 'helm'"),
        ("response.acceptance.a", 1.5, r"response.acceptance.a': must be <= 1"),
        ("source.timing_model", "physicall", r"did you mean 'physical'"),
    ]
    for key, value, match in cases:
        data = copy.deepcopy(base)
        set_path(data, key, value)
        with pytest.raises(CardError, match=match):
            cards.load_detector(write_card(tmp_path, data))
    xe = copy.deepcopy(cards.load_detector("xenon1t_2018").data)
    xe["target"]["Z"] = 54.5                      # a fractional Z
    with pytest.raises(CardError, match=r"target.Z': must be a integer, got number 54.5"):
        cards.load_detector(write_card(tmp_path, xe))
    cosmo = copy.deepcopy(cards.load_detector("cosmology").data)
    cosmo["relic"]["omega_dm_h2"] = -0.12         # was a math domain error deep in the solver
    with pytest.raises(CardError, match=r"relic.omega_dm_h2': must be > 0"):
        cards.load_detector(write_card(tmp_path, cosmo))
    na62 = copy.deepcopy(cards.load_detector("na62").data)
    na62["background"]["from_card"] = "na62"      # a scaled background naming itself
    p = write_card(tmp_path, na62, "na62.toml")
    from nudmsim.analyses import _meson_limits as ml
    with pytest.raises(CardError, match="background.from_card.*no power_law background"):
        ml.background_params(cards.load_detector(p))


# ------------------------------------------------------------------------------------------------
# (e) tables: ragged row, text, NaN, non-increasing edges -> file, line, column (and the card key)
# ------------------------------------------------------------------------------------------------
def _read_timing(card):
    from nudmsim.sources import sns

    return sns.load_timing(card)


def _dd(card):
    from nudmsim.response import dd_detectors as dd

    return dd.load(card)


def _dd_reference(card):
    from nudmsim.analyses import _dd_limits as ddl

    return ddl.official_si_curve(_dd(card))


def _borexino(card):
    from nudmsim.analyses import _dd_limits as ddl

    return card.read_file("background.spectrum", lambda p: ddl._borexino_data(str(p)))


def _release(card):
    from nudmsim.analyses import coherent_fit as cf

    return cf.load_release(card)


def _qf_fit(card):
    from nudmsim.response import quenching

    return quenching.from_card(card, model="fit")


def _pp(card):
    from nudmsim.sources import pp

    return pp.load_pp_source(str(card.path))


TABLES = [  # (role, card, key, reader, a column that must increase, a column that must be >= 0)
    ("source", "sns", "timing.pdf_file", _read_timing, "t_us", "pdf_delayed_nu"),
    ("detector", "xenon1t_2018", "response.migration_matrix", _dd, "E_true_low_keVnr", "rec_3_3.75"),
    ("detector", "xenon1t_2018", "likelihood.table", _dd, "rec_low_keV", None),
    ("detector", "xenon1t_2018", "likelihood.threshold", _dd, "signal_multiple", "likelihood_ratio_threshold"),
    ("detector", "xenon1t_2018", "likelihood.reference_limit", _dd_reference, "mass_GeV", "sigma_SI_UL90_cm2"),
    ("detector", "borexino", "background.spectrum", _borexino, "c2_energy_keV", "c4_rate"),
    ("detector", "coherent_csi_2017", "data.counts_file", _release, None, "AC_beamOn"),
    ("detector", "coherent_csi_2017", "data.prompt_neutron_pe_file", _release, "pe_center", "prompt_neutrons_per_GWh"),
    ("detector", "coherent_csi_2017", "data.time_pdf_file", _release, "t_us", "pdf_prompt_neutrons"),
    ("detector", "coherent_csi_2017", "response.quenching.fit_files", _qf_fit, None, "QF"),
    ("source", "pp_7tev", "w.luminosity_table", _pp, None, None),
]


def _mutate_csv(src: Path, dst: Path, how: str, col_inc: str | None, col_pos: str | None):
    """Write a copy of ``src`` with one defect in the second data row; return (line number, column or None)."""
    lines = src.read_text().splitlines()
    idx = [i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    header = [h.strip() for h in lines[idx[0]].split(",")]
    r1, r2 = idx[1], idx[2]
    cells = lines[r2].split(",")
    col = None
    if how == "ragged":
        cells = cells[:-1]
    elif how in ("nan", "text", "negative"):
        col = col_pos or header[-1]
        cells[header.index(col)] = {"nan": "nan", "text": "n/a", "negative": "-0.5"}[how]
    elif how == "decreasing":
        col = col_inc
        cells[header.index(col)] = lines[r1].split(",")[header.index(col)]
    lines[r2] = ",".join(cells)
    dst.write_text("\n".join(lines) + "\n")
    return r2 + 1, col


TABLE_CASES = [(*t, how) for t in TABLES for how in ("ragged", "text", "nan", "decreasing", "negative")
               if not (how == "decreasing" and t[4] is None or how == "negative" and t[5] is None)]


@pytest.mark.parametrize("role, name, key, reader, col_inc, col_pos, how", TABLE_CASES,
                         ids=[f"{t[1]}:{t[2]}:{t[6]}" for t in TABLE_CASES])
def test_bad_tables(role, name, key, reader, col_inc, col_pos, how, tmp_path):
    card = cards.load(name, role)
    value = card.get(key)
    first = value[0] if isinstance(value, list) else value
    src = card.relative_file(key) if not isinstance(value, list) else _qf_file(card, first)
    bad = tmp_path / f"bad_{how}_{src.name}"
    line, col = _mutate_csv(src, bad, how, col_inc, col_pos)
    data = copy.deepcopy(card.data)
    set_path(data, key, [str(bad), *value[1:]] if isinstance(value, list) else str(bad))
    p = write_card(tmp_path, data, f"{name}.toml")
    with pytest.raises(NudmsimError) as e:
        reader(cards.load(p, role))
    msg = one_line(e.value)
    assert str(p) in msg and f"key '{key}'" in msg and bad.name in msg and f"line {line}" in msg, msg
    if col is not None:
        assert f"column '{col}'" in msg, msg
    assert {"ragged": "ragged row", "text": "is not a number", "nan": "is nan", "decreasing": "does not increase",
            "negative": "must be >= 0"}[how] in msg, msg


def _qf_file(card, name):
    from nudmsim.response.quenching import _resolve

    return _resolve(card, "response.quenching.fit_files", name)


def test_table_reader_checks_directly(tmp_path):
    from nudmsim.response.tables import read_csv_table

    p = tmp_path / "t.csv"
    p.write_text("# provenance\nx,y\n1,2\n3,4\n")
    assert list(read_csv_table(p, increasing=("x",))["y"]) == [2.0, 4.0]
    with pytest.raises(NudmsimError, match=r"t.csv: no column 'z' \(columns: x, y\)"):
        read_csv_table(p, columns=("z",))
    p.write_text("x,x\n1,2\n")
    with pytest.raises(NudmsimError, match="line 1: the header names column 'x' twice"):
        read_csv_table(p)
    p.write_bytes(b"x,y\n1,\xff\n")
    with pytest.raises(NudmsimError, match=r"t.csv: line 2: not UTF-8"):
        read_csv_table(p)
    with pytest.raises(NudmsimError, match="is a directory"):
        read_csv_table(tmp_path)


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
    _mutate_csv(sns.relative_file("timing.pdf_file"), bad_pdf, "ragged", None, None)
    (tmp_path / "near").mkdir()
    (tmp_path / "near" / "sns.toml").write_text(
        sns.text.replace('pdf_file = "coherent_csi_2017/csi2018_arrival_time_pdfs.csv"', f'pdf_file = "{bad_pdf}"'))
    cases = {
        "unknown.toml": (text.replace("baseline_m = 19.3", "baseline_m = 19.3\nbaseline_mm = 19300"),
                         "key 'source.baseline_mm': is not a valid key (did you mean 'baseline_m'?)"),
        "typo.toml": (text.replace("[response.quenching]\nmodel", "[response.quenching]\nmodle"),
                      "key 'response.quenching.modle': is not a valid key (did you mean 'model'?)"),
        "string.toml": (text.replace("mass_kg = 14.57", 'mass_kg = "14.57 kg"'),
                        "key 'target.mass_kg': must be a number (in kg), got string '14.57 kg'"),
        "nan.toml": (text.replace("baseline_m = 19.3", "baseline_m = nan"), "key 'source.baseline_m': is nan"),
        "both.toml": (text.replace("beam_energy_GWh = 7.47594", "beam_energy_GWh = 7.47594\nprotons_on_target = 1.7e23"),
                      "key 'source': give exactly one of beam_energy_GWh, protons_on_target"),
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
    for name, expect in (("latin1.toml", "is not UTF-8 text"), ("adir.toml", "is a directory")):
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
