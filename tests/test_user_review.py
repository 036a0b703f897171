"""Regressions found by running every documented command as a user would (review of issues 1-5).

Each test failed before its fix: CLI messages, output files and plot layout, not physics."""
from __future__ import annotations

import numpy as np
import pytest

from nudmsim.stats.curves import LimitCurve


def _band_curve(y_unit=""):
    """A curve shaped like the atlas-w one: wide bands reaching the top right corner."""
    x = np.geomspace(5.0, 150.0, 30)
    med = np.where(x < 30, 0.03 * (5 / x) ** 1.5, 0.025)
    return LimitCurve(x=x, observed=np.full(x.size, np.nan), expected=med,
                      bands={"-2": 0.2 * med, "-1": 0.2 * med, "+1": 1.8 * med, "+2": 2.6 * med},
                      x_label="m4", y_label="|U_mu4|^2", x_unit="GeV", y_unit=y_unit, title="t",
                      reference=(np.array([2.0, 1000.0]), np.array([1.7e-4, 1.7e-4]), "ref"))


def test_dimensionless_axis_has_no_empty_brackets(tmp_path):
    curve = _band_curve(y_unit="")
    ax = curve.plot()
    assert ax.get_ylabel() == "|U_mu4|^2"
    assert ax.get_xlabel() == "m4 [GeV]"
    curve.write_csv(tmp_path / "c.csv")
    header = (tmp_path / "c.csv").read_text().splitlines()[1]
    assert "[]" not in header and "y = |U_mu4|^2" in header and "x = m4 [GeV]" in header


def test_limit_plot_legend_does_not_cover_the_bands():
    """atlas-w: the legend sat in the upper right corner, on top of the +-1/2 sigma bands."""
    ax = _band_curve().plot()
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    leg = ax.get_legend().get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    assert not leg.overlaps(frame)
    import matplotlib.pyplot as plt

    plt.close(fig)


def _run(capsys, *argv):
    from nudmsim.cli.main import main

    try:
        rc = main(list(argv))
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_negative_mass_gets_the_one_line_message(tmp_path, capsys):
    """'--masses -5,10' was taken by argparse for an option: usage text + 'expected one argument'."""
    csv = tmp_path / "m.csv"
    rc, out, err = _run(capsys, "limit", "coherent2017", "--masses", "-5,10", "--scheduler", "sync",
                        "-o", str(csv))
    assert rc == 2
    assert err.strip().splitlines() == ["nudmsim: error: --masses '-5,10': masses must be finite and > 0 (MeV unless a unit is given)"]
    assert not list(tmp_path.iterdir())


def test_event_count_accepts_scientific_notation(tmp_path, capsys):
    """The help says 'default 1e5', but '-n 1e3' was refused (argparse int)."""
    import uproot

    out = tmp_path / "c.root"
    rc, stdout, err = _run(capsys, "generate", "cevns", "-n", "1e3", "--seed", "1", "-o", str(out))
    assert rc == 0, err
    assert uproot.open(out)["events"].num_entries == 1000
    rc, _, err = _run(capsys, "generate", "cevns", "-n", "1.5e0", "-o", str(tmp_path / "d.root"))
    assert rc == 2 and "not a whole number of events" in err
    assert not (tmp_path / "d.root").exists()


def test_limit_without_sensitivity_is_not_printed_as_less_than_nan(tmp_path, capsys):
    """xenon1t-x2nu above ~130 MeV (line outside the window) printed 'sigma_NC < nan cm^2'."""
    csv = tmp_path / "x.csv"
    rc, out, err = _run(capsys, "limit", "xenon1t-x2nu", "--masses", "60,300", "--ratio", "10",
                        "--scheduler", "sync", "--quiet", "-o", str(csv))
    assert rc == 0, err
    lines = [ln for ln in out.splitlines() if ln.strip().startswith("m_X =")]
    assert len(lines) == 2
    assert "sigma_NC < " in lines[0] and "nan" not in lines[0]
    assert "nan" not in lines[1] and "no limit" in lines[1]
    assert "nan" in csv.read_text().splitlines()[-1]  # the CSV keeps the NaN


def test_predict_header_without_parameters(capsys):
    """'nudmsim predict cevns' printed 'cevns on coherent_csi_2017 with ' (dangling 'with')."""
    rc, out, err = _run(capsys, "predict", "cevns")
    assert rc == 0, err
    assert out.splitlines()[0] == "cevns on coherent_csi_2017 (no model parameters)"
    rc, out, err = _run(capsys, "predict", "nu-to-x", "--set", "m_X=20")
    assert out.splitlines()[0] == "nu-to-x on coherent_csi_2017 with m_X=20, m_phi=30, y_X=3e-06, y_q=0.0001"


def test_every_cli_argument_has_help_text():
    """--compression, predict PROCESS, fit --json, list WHAT, demo --seed had none; fit/limit -d said
    'default: the process's own' (it is the analysis's)."""
    import argparse

    from nudmsim.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, p in sub.choices.items() for a in p._actions
               if not isinstance(a, argparse._HelpAction) and not a.help]
    assert missing == []
    for name in ("fit", "limit"):
        det = next(a for a in sub.choices[name]._actions if "--detector" in a.option_strings)
        assert "analysis's own" in det.help


def test_si_limit_masses_in_gev_by_mistake(tmp_path, capsys):
    """'--masses 10,20' (meant as GeV, read as MeV) said 'see nudmsim predict x-to-nu ... choose a larger
    m_X': the wrong process and parameter for a WIMP scan."""
    rc, out, err = _run(capsys, "limit", "xenon1t-si", "--masses", "10,20", "--scheduler", "sync", "--quiet",
                        "-o", str(tmp_path / "si.csv"))
    assert rc == 2
    assert len(err.strip().splitlines()) == 1
    assert "x-to-nu" not in err and "m_X" not in err
    assert "0.01, 0.02 GeV" in err and "MeV" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("address", ["foo", "tcp://foo"])
def test_malformed_scheduler_address_is_one_line(tmp_path, capsys, address):
    """'--scheduler foo' ended in a 60-line distributed traceback and exit 1."""
    rc, out, err = _run(capsys, "limit", "xenon1t-si", "--scheduler", address, "--masses", "10000,20000",
                        "-o", str(tmp_path / "si.csv"))
    assert rc == 2
    assert err.strip().splitlines() == [err.strip()] and "Traceback" not in err
    assert f"--scheduler {address}: not a Dask scheduler address" in err
    assert not list(tmp_path.iterdir())


def test_e949_calibration_legend_leaves_the_curves_visible(monkeypatch, tmp_path):
    """`nudmsim fit meson-2body --plot`: the legend sat on the KEK E089 curve and its label."""
    import nudmsim.io
    from nudmsim.entries import plot_calibration
    from nudmsim.experiment import Experiment
    from nudmsim.stats.calibration import CalibrationResult

    figs = []
    monkeypatch.setattr(nudmsim.io, "save_figure", lambda fig, path: figs.append(fig))
    m = np.linspace(180.0, 300.0, 5)
    res = CalibrationResult("e949", {}, m, 3e-8 * (180.0 / m) ** 3, 3e-8 * (180.0 / m) ** 3, 1.0, 0.0)
    plot_calibration(Experiment.load("e949"), res, tmp_path / "c.png")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figs[0]
    canvas = FigureCanvasAgg(fig)  # the function closed the figure after saving
    canvas.draw()
    r = canvas.get_renderer()
    ax = fig.axes[0]
    assert not ax.get_legend().get_window_extent(r).overlaps(ax.get_window_extent(r))


def test_seed_promise_is_same_events_not_same_bytes(tmp_path, capsys):
    """README and --help promised 'the same file'; two runs give equal events but different bytes
    (ROOT creation time and UUID), so the promise is stated for the events."""
    import uproot

    from nudmsim.cli.main import build_parser

    paths = [tmp_path / "a.root", tmp_path / "b.root"]
    for p in paths:
        assert _run(capsys, "generate", "cevns", "-n", "2000", "--seed", "5", "-o", str(p))[0] == 0
    a, b = (uproot.open(p)["events"].arrays(library="np") for p in paths)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    gen = build_parser()._subparsers._group_actions[0].choices["generate"]
    seed = next(x for x in gen._actions if "--seed" in x.option_strings)
    assert "same events" in seed.help and "same file" not in seed.help


def test_output_files_get_the_usual_permissions(tmp_path, capsys):
    """Atomic outputs kept mkstemp's 0600: ROOT files, CSVs and PNGs unreadable by group/others."""
    import os
    import stat

    mask = os.umask(0o022)
    try:
        out = tmp_path / "c.root"
        assert _run(capsys, "generate", "cevns", "-n", "100", "--seed", "1", "-o", str(out))[0] == 0
        png = tmp_path / "p.png"
        assert _run(capsys, "predict", "cevns", "--plot", str(png))[0] == 0
        for p in (out, png):
            assert stat.S_IMODE(p.stat().st_mode) == 0o644
    finally:
        os.umask(mask)


@pytest.mark.parametrize("cmd", [["predict", "cevns"], ["fit", "coherent2017"],
                                 ["limit", "xenon1t-si", "--masses", "30000", "--scheduler", "sync"]])
def test_unsupported_plot_format_is_refused_before_any_output(tmp_path, capsys, cmd):
    """'--plot b.txt' ran the whole job, left the limit CSV behind and ended in a matplotlib traceback."""
    argv = cmd + ["--plot", str(tmp_path / "b.txt")]
    if cmd[0] == "limit":
        argv += ["-o", str(tmp_path / "a.csv")]
    rc, out, err = _run(capsys, *argv)
    assert rc == 2
    assert err.strip().splitlines() == [f"nudmsim: error: cannot write figure '{tmp_path / 'b.txt'}': "
                                        "format 'txt' is not supported (use .png, .pdf or .svg)"]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv, message", [
    (["xenon1t-si", "--ratio", "3", "--masses", "30000"], "xenon1t-si has no second curve parameter: drop --ratio"),
    (["xenon1t-si", "--option", "asymptotc=1", "--masses", "30000"],
     "unknown --option asymptotc for xenon1t-si (options: measurement, method)"),
    (["borexino-x2nu", "--option", "quench=seed", "--masses", "80"],
     "unknown --option quench for borexino-x2nu (options: measurement, method)"),
    (["borexino-x2nu", "--projected", "--masses", "80"], "borexino-x2nu has no projection: drop --projected"),
    (["coherent2017", "--option", "methd=cls", "--masses", "10"],
     "unknown --option methd for coherent2017 (options: measurement, method, truncation, pcl, expected, reference)"),
    (["kaon-pi-phi", "--option", "foo=1"],
     "unknown --option foo for kaon-pi-phi (options: measurement, method, truncation, pcl, expected, reference)"),
    (["kaon-pi-phi", "--projected"], "kaon-pi-phi has no projection: drop --projected"),
    (["meson-2body", "--ratio", "3", "--masses", "200"], "meson-2body has no second curve parameter: drop --ratio"),
    (["meson-3body", "--option", "m_4=400GeV", "--masses", "20"],
     "unknown --option m_4 for meson-3body (options: measurement, method, truncation, pcl, expected, reference, "
     "m4, y_L)"),
    (["atlas-w", "--ratio", "3", "--masses", "30000"], "atlas-w has no second curve parameter: drop --ratio"),
])
def test_limit_refuses_what_the_analysis_would_ignore(tmp_path, capsys, argv, message):
    """These ran to the end with the --ratio/--option/--projected silently ignored (a typo in an option name
    gave the default curve)."""
    rc, out, err = _run(capsys, "limit", *argv, "--scheduler", "sync", "--quiet", "-o", str(tmp_path / "l.csv"))
    assert rc == 2
    assert err.strip().splitlines() == [f"nudmsim: error: {message}"]
    assert not list(tmp_path.iterdir())


def test_meson_2body_fit_refuses_unknown_set(capsys):
    """'nudmsim fit meson-2body --set foo=1' ran the 1.5-minute calibration and ignored --set."""
    rc, out, err = _run(capsys, "fit", "meson-2body", "--set", "foo=1")
    assert rc == 2
    assert err.strip().splitlines() == [
        "nudmsim: error: meson-2body fit: unknown --set foo (the calibration has no parameters)"]


def test_set_messages_for_flags_and_dimensionless_parameters(capsys):
    """'--set lepton=mu' suggested 'lepton=13.0'; '--set y_X=1GeV' said 'parameter is in dimensionless units'."""
    rc, _, err = _run(capsys, "predict", "w-lepton", "--set", "lepton=mu")
    assert rc == 2 and err.strip() == "nudmsim: error: --set lepton=mu: not a number (write e.g. lepton=13)"
    rc, _, err = _run(capsys, "predict", "nu-to-x", "--set", "y_X=1GeV")
    assert rc == 2 and err.strip() == ("nudmsim: error: --set y_X=1GeV: unit 'GeV' not understood "
                                       "(the parameter takes a plain number, no unit)")


def test_generate_refuses_non_root_output_name(tmp_path, capsys):
    out = tmp_path / "events.txt"
    rc, _, err = _run(capsys, "generate", "cevns", "-n", "100", "-o", str(out))
    assert rc == 2 and "ending in .root" in err
    assert not out.exists() and not any(tmp_path.iterdir())
