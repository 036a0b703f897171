"""``nudmsim report --set NAME=VALUE ...``: one model point against every experiment and cosmological bound."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import NudmsimError


def add_parsers(sub) -> None:
    p = sub.add_parser("report", help="a scalar-portal model point against every experiment and cosmological bound",
                       description="Check one model point (m_X, m_phi, y_X, y_q; defaults: the nu-to-x defaults) "
                                   "against every applicable experiment analysis (expected events, 90% CL limit, "
                                   "status, test statistic) and cosmological bound (Omega h^2, kinetic decoupling "
                                   "vs Lyman-alpha, N_eff, lifetime).  Writes Markdown, JSON and a PNG panel.")
    p.add_argument("--set", dest="sets", action="append", metavar="NAME=VALUE", default=[],
                   help="model parameter as everywhere else, e.g. --set m_X=10MeV --set m_phi=30 --set y_X=1e-5 "
                        "(repeatable; `nudmsim list processes` shows nu-to-x's parameters and defaults)")
    p.add_argument("-o", "--output", default="report.md",
                   help="Markdown output (default report.md); the JSON and the PNG go beside it")
    p.add_argument("--json", action="store_true", help="also print the JSON on stdout")
    p.add_argument("--no-figure", action="store_true", help="skip the sigma_NC vs m_X panel (faster)")
    p.add_argument("--scheduler", help="Dask scheduler address ('sync' = in-process; default: automatic)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from .. import registry
    from ..io import atomic_output, check_writable
    from ..report import make_report
    from ..scan import session
    from .commands import _check_scheduler

    md = check_writable(Path(args.output))
    if md.suffix.lower() != ".md":
        raise NudmsimError(f"-o {md}: the report is Markdown, give a name ending in .md (JSON and PNG go beside it)")
    _check_scheduler(args.scheduler)
    sets = registry.parse_set_options(args.sets)
    from .figure import numerical_warnings

    notes: list[str] = []
    with session(args.scheduler), numerical_warnings(notes):
        rep = make_report(sets, figure_path=None if args.no_figure else md.with_suffix(".png"),
                          progress=not args.quiet)
    js = md.with_suffix(".json")
    js_text, md_text = rep.to_json(), rep.to_markdown()   # both rendered before either file is written
    with atomic_output(js) as tmp:
        Path(tmp).write_text(js_text)
    with atomic_output(md) as tmp:
        Path(tmp).write_text(md_text)
    p = rep.point
    print(f"model point m_X = {p['m_X']:g} MeV, m_phi = {p['m_phi']:g} MeV, y_X = {p['y_X']:g}, y_q = {p['y_q']:g} "
          f"(sigma_NC = {p['sigma_NC_cm2']:.3e} cm^2): {'EXCLUDED' if rep.excluded else 'allowed'}")
    for ch in rep.checks:
        lim = f"{ch.relation} {ch.limit:.3g}" if ch.limit == ch.limit else "-"
        extra = f", mu = {ch.mu:.3g}, q = {ch.test_statistic:.3g}" if ch.mu == ch.mu else ""
        print(f"  [{ch.status:>14}] {ch.name:<34} {ch.quantity} = {ch.value:.3g} {ch.unit} (bound {lim}{extra})")
    print(f"  -> {md}, {js}" + ("" if rep.figure is None else f", {rep.figure}"))
    for note in notes:
        print(f"  note: {note}")
    if args.json:
        sys.stdout.write(rep.to_json() + "\n")
    return 0
