"""Shared helpers of the strict-card tests: write TOML, walk a card's keys, build what the analyses build."""
from __future__ import annotations

import itertools
import math
from pathlib import Path

from nudmsim import cards
from nudmsim.schema import toml_repr

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [("detector", n) for n in cards.available("detector")] + [("source", n) for n in cards.available("source")]
_COUNTER = itertools.count()


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


def _parts(dotted):
    """'response[0].file' -> ['response', 0, 'file'] (an index into an array of tables)."""
    out = []
    for part in dotted.split("."):
        while "[" in part:
            name, rest = part.split("[", 1)
            if name:
                out.append(name)
            idx, part = rest.split("]", 1)
            out.append(int(idx))
        if part:
            out.append(part)
    return out


def get_path(d, dotted):
    for part in _parts(dotted):
        d = d[part]
    return d


def set_path(d, dotted, value):
    *head, last = _parts(dotted)
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
    if card.card_kind == "experiment":      # [source] is declared by the source kind of the named source card
        from nudmsim.sources import source_kind

        src = cards.load_source(card.data["source"]["card"])
        for f in source_kind(src.card_kind).schema.fields:
            if f.name in card.data["source"] and f.name != "card":     # (a missing 'card' is its own error)
                out[f"source.{f.name}"] = f
    return out


def is_number_field(f) -> bool:
    t = f.type if isinstance(f.type, tuple) else (f.type,)
    return float in t and str not in t


def build(card):
    """What the library builds from a card of each kind (source, response, detector, background...)."""
    from nudmsim.analyses import cosmology as cosmo
    from nudmsim.experiment import Experiment
    from nudmsim.sources import halo, meson_beams, pp, sns

    kind = card.card_kind
    if kind == "experiment":
        Experiment(card)          # source, target, stages (their tables), observables, analysis (its data file)
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
    elif kind == "hnl_decay":
        from nudmsim.analyses import hnl

        n_hnl, _ = hnl._card_numbers(card)
        assert n_hnl > 0
    elif kind == "model1":
        from nudmsim.models import model1_constraints as m1

        assert m1.neff_m_chi_min() > 0 and m1.bbn_y_max(100.0, 300.0) > 0
    elif kind == "nu-flux":
        from nudmsim.analyses import superk

        assert superk.allowed_extra_taus(card) >= 0 and superk.target_nucleons(card) > 0
    else:
        raise AssertionError(f"no builder for kind {kind}")


def one_line(exc) -> str:
    msg = str(exc)
    assert "\n" not in msg, msg
    return msg


def mutate_csv(src: Path, dst: Path, how: str, col_inc: str | None, col_pos: str | None):
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
