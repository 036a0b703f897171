"""Strict cards, part 3: CSV tables named by cards are validated on read (ragged row, text, NaN, non-increasing
edges, negative densities): one-line errors naming the card, the key, the table file, the line and the column."""
from __future__ import annotations

import copy

import pytest

from card_helpers import get_path, mutate_csv, one_line, set_path, write_card
from nudmsim import cards
from nudmsim.errors import NudmsimError


# ------------------------------------------------------------------------------------------------
# (e) tables: ragged row, text, NaN, non-increasing edges -> file, line, column (and the card key)
# ------------------------------------------------------------------------------------------------
def _read_timing(card):
    from nudmsim.sources import sns

    return sns.load_timing(card)


def _xe_reference(card):
    from nudmsim.experiment import Experiment
    from nudmsim.runner import limit_settings, reference_curve

    from nudmsim.models import planes

    exp = Experiment(card)
    cfg = limit_settings(exp, {}, "si")
    return reference_curve(exp, cfg, planes.get(cfg["plane"]), [30.0], None)


def _experiment(card):
    from nudmsim.experiment import Experiment

    return Experiment(card)


def _pp(card):
    from nudmsim.sources import pp

    return pp.load_pp_source(str(card.path))


TABLES = [  # (role, card, key, reader, a column that must increase, a column that must be >= 0)
    ("source", "sns", "timing.pdf_file", _read_timing, "t_us", "pdf_delayed_nu"),
    ("detector", "xenon1t_2018", "response[0].file", _experiment, "E_true_low_keVnr", "rec_3_3.75"),
    ("detector", "xenon1t_2018", "analysis.likelihood_options.table", _experiment, "rec_low_keV", None),
    ("detector", "xenon1t_2018", "analysis.likelihood_options.threshold", _experiment, "signal_multiple",
     "likelihood_ratio_threshold"),
    ("detector", "xenon1t_2018", "analysis.limit.si.reference.file", _xe_reference, "mass_GeV", "sigma_SI_UL90_cm2"),
    ("detector", "borexino", "analysis.likelihood_options.spectrum.file", _experiment, "c2_energy_keV", "c4_rate"),
    ("detector", "coherent_csi_2017", "analysis.data.counts", _experiment, None, "C_beamOn"),
    ("source", "pp_7tev", "w.luminosity_table", _pp, None, None),
]


TABLE_CASES = [(*t, how) for t in TABLES for how in ("ragged", "text", "nan", "decreasing", "negative")
               if not (how == "decreasing" and t[4] is None or how == "negative" and t[5] is None)]


@pytest.mark.parametrize("role, name, key, reader, col_inc, col_pos, how", TABLE_CASES,
                         ids=[f"{t[1]}:{t[2]}:{t[6]}" for t in TABLE_CASES])
def test_bad_tables(role, name, key, reader, col_inc, col_pos, how, tmp_path):
    card = cards.load(name, role)
    src = card.resolve(get_path(card.data, key), key)
    bad = tmp_path / f"bad_{how}_{src.name}"
    line, col = mutate_csv(src, bad, how, col_inc, col_pos)
    data = copy.deepcopy(card.data)
    set_path(data, key, str(bad))
    p = write_card(tmp_path, data, f"{name}.toml")
    with pytest.raises(NudmsimError) as e:
        reader(cards.load(p, role))
    msg = one_line(e.value)
    assert str(p) in msg and f"key '{key}'" in msg and bad.name in msg and f"line {line}" in msg, msg
    if col is not None:
        assert f"column '{col}'" in msg, msg
    assert {"ragged": "ragged row", "text": "is not a number", "nan": "is nan", "decreasing": "does not increase",
            "negative": "must be >= 0"}[how] in msg, msg


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


