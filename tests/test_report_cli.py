"""nudmsim report, HEPData export, --masses with units, default limit names, progress, readable reprs."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from nudmsim import progress, registry
from nudmsim.cli.commands import _parse_masses, default_limit_name
from nudmsim.cli.main import main
from nudmsim.errors import NudmsimError
from nudmsim.report import EXPERIMENTS, Z90, make_report
from nudmsim.stats.curves import LimitCurve


def test_report_default_point_json_lists_every_analysis_and_bound(tmp_path, capsys):
    md = tmp_path / "r.md"
    assert main(["report", "-o", str(md), "--no-figure", "--quiet", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{"):])               # --json prints the JSON after the summary
    assert data == json.loads((tmp_path / "r.json").read_text())
    names = [ch["name"] for ch in data["checks"]]
    assert set(a for a, _, _ in EXPERIMENTS) <= set(names)
    assert {"relic abundance", "kinetic decoupling (Lyman-alpha)", "N_eff", "lifetime X -> nu gamma"} <= set(names)
    defaults = registry.get_process("nu-to-x").params
    assert data["point"]["m_X"] == defaults["m_X"].default and data["point"]["y_X"] == defaults["y_X"].default
    for ch in data["checks"]:
        assert ch["status"] in ("excluded", "allowed", "no sensitivity", "not applicable")
        if ch["kind"] == "experiment" and ch["mu"] is not None:
            assert (ch["status"] == "excluded") == (ch["mu"] > 1.0)
            assert ch["test_statistic"] == pytest.approx((Z90 * ch["mu"]) ** 2)
    text = md.read_text()
    assert "| coherent2017 |" in text and "## Cosmology" in text


def test_report_statuses_follow_the_physics():
    # heavy X, tiny couplings: nothing sees it; T_KD far above Lyman-alpha; m_X above the N_eff bound
    rep = make_report({"m_X": "60", "m_phi": "180", "y_X": "1e-8", "y_q": "1e-12"}, progress=False)
    by = {ch.name: ch for ch in rep.checks}
    assert by["xenon1t-x2nu"].status == "allowed" and by["xenon1t-x2nu"].mu < 1e-6
    assert by["N_eff"].status == "allowed"
    assert by["kinetic decoupling (Lyman-alpha)"].status == "allowed"
    assert by["relic abundance"].status == "excluded"      # y_X = 1e-8 annihilates far too little
    assert "Report(" in repr(rep) and len(repr(rep)) < 300
    # the point's sigma_NC: the seed's definition y_X^2 y_p^2 m_X^2 / (16 pi m_phi^4)
    p = rep.point
    sig = p["y_X"] ** 2 * p["y_p"] ** 2 * 60.0**2 / (16 * math.pi * 180.0**4) * (197.3269804e-13) ** 2
    assert p["sigma_NC_cm2"] == pytest.approx(sig, rel=1e-6)


def test_report_refuses_m_phi_below_m_X():
    with pytest.raises(NudmsimError, match="m_phi"):
        make_report({"m_X": "10", "m_phi": "5"}, progress=False)


def test_hepdata_export_of_a_limit_curve(tmp_path):
    from nudmsim.hepdata import write_limit_curve

    lc = LimitCurve(x=np.array([1.0, 2.0, 3.0]), observed=np.array([1e-40, np.nan, 3e-40]), x_label="m_X",
                    y_label="sigma_NC", x_unit="MeV", y_unit="cm^2", title="t/with slash", expected=np.ones(3),
                    bands={"-1": np.full(3, 0.5), "+1": np.full(3, 2.0)})
    d = write_limit_curve(lc, tmp_path / "x.hepdata", name="a/b")
    assert (d / "submission.tar.gz").is_file()        # written only after hepdata-validator accepted it
    tab = [p for p in d.glob("*.yaml") if p.name != "submission.yaml"]
    assert len(tab) == 1
    doc = yaml.safe_load(tab[0].read_text())
    assert [v["value"] for v in doc["independent_variables"][0]["values"]] == [1.0, 2.0, 3.0]
    obs = doc["dependent_variables"][0]
    assert [v["value"] for v in obs["values"]] == [1e-40, "-", 3e-40]   # NaN -> HEPData's '-'
    assert obs["qualifiers"][0] == {"name": "CL", "value": "90%"}
    assert len(doc["dependent_variables"]) == 4       # observed, expected, -1 and +1 sigma


def test_limit_writes_hepdata_beside_the_csv_and_default_names_differ(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["limit", "kinetic-decoupling", "--masses", "1MeV,0.01GeV", "--ratio", "3", "--quiet"]) == 0
    assert main(["limit", "kinetic-decoupling", "--masses", "1,10", "--ratio", "10", "--quiet"]) == 0
    assert main(["limit", "kinetic-decoupling", "--masses", "1,10", "--ratio", "10", "--option", "channels=nu",
                 "--quiet"]) == 0
    csvs = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert csvs == ["limit_kinetic-decoupling_r10_observed.csv", "limit_kinetic-decoupling_r10_observed_channels-nu.csv",
                    "limit_kinetic-decoupling_r3_observed.csv"]
    assert (tmp_path / "limit_kinetic-decoupling_r3_observed.hepdata" / "submission.yaml").is_file()
    rows = [ln for ln in (tmp_path / csvs[2]).read_text().splitlines() if not ln.startswith("#")][1:]
    assert [float(r.split(",")[0]) for r in rows] == [1.0, 10.0]   # 0.01GeV -> 10 MeV


def test_default_name_parts():
    a = default_limit_name("coherent2017", "coherent_csi_future", "coherent_csi_2017", 3.0, True, {"method": "cls"})
    assert a == "limit_coherent2017_coherent_csi_future_r3_projected_method-cls.csv"
    assert default_limit_name("x", "c", "c", None, False, {}) == "limit_x_observed.csv"


@pytest.mark.parametrize("text,mev", [("10", [10.0]), ("500keV,2GeV", [0.5, 2000.0]), ("1e-3 GeV", [1.0])])
def test_masses_take_units(text, mev):
    assert np.allclose(_parse_masses(text), mev)


@pytest.mark.parametrize("text", ["abc", "10 furlongs", "-5", "0", ","])
def test_bad_masses_are_one_line_errors(text):
    with pytest.raises(NudmsimError, match="--masses"):
        _parse_masses(text)


def test_progress_is_silent_off_a_terminal_and_when_quiet(capsys):
    assert not progress.enabled(quiet=True)
    with progress.progress(3, "x") as bar:   # pytest captures stderr: not a terminal
        bar.update()
        bar.set_description("y")
    assert capsys.readouterr().err == ""


def test_limit_curve_repr_is_one_short_line():
    lc = LimitCurve(x=np.geomspace(1, 100, 500), observed=np.geomspace(1e-40, 1e-42, 500), x_label="m_X",
                    y_label="sigma_NC", x_unit="MeV", y_unit="cm^2", title="t")
    r = repr(lc)
    assert "\n" not in r and len(r) < 200 and "500 points" in r and "1e-42" in r


def test_report_at_gev_masses_uses_super_k_and_renders():
    rep = make_report({"m_X": "20GeV", "m_phi": "60GeV", "y_X": "1", "y_q": "1e-4"}, progress=False)
    by = {ch.name: ch for ch in rep.checks}
    sk = by["superk-x2nu"]
    assert sk.status in ("excluded", "allowed") and math.isfinite(sk.mu)
    assert by["coherent2017"].status == "no sensitivity"        # far above the SNS reach
    md = rep.to_markdown()
    assert "| superk-x2nu |" in md and "error" in md             # blind processes' messages render as text
    json.loads(rep.to_json())
