"""``nudmsim`` command line: parse, call the library, print.  User errors -> one line, exit 2."""
from __future__ import annotations

import argparse
import sys


from .. import __version__
from ..errors import NudmsimError

EXIT_USER_ERROR = 2


def _add_model_args(p, owner="process"):
    p.add_argument("--detector", "-d", default=None,
                   help=f"detector card name (detectors/NAME.toml) or path; default: the {owner}'s own")
    p.add_argument("--set", dest="sets", action="append", metavar="NAME=VALUE", default=[],
                   help="model parameter, e.g. --set m_X=10 or --set m_X=10MeV (repeatable); "
                        "`nudmsim list` shows parameters, units and defaults")


def _event_count(text: str) -> int:
    """-n accepts 1000000 and 1e6 (the help and the docs write 1e5); 1.5 is refused."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        val = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of events (e.g. 1000000 or 1e6)") from None
    if not val.is_integer():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of events (e.g. 1000000 or 1e6)")
    return int(val)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="nudmsim", description="Event-level simulator for neutrino-dark-matter "
                                 "physics: events, detector response, ROOT files, fits and limits.")
    ap.add_argument("--version", action="version", version=f"nudmsim {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list processes (with parameters), detectors, analyses and checks")
    p.add_argument("what", nargs="?", choices=("processes", "detectors", "analyses", "checks"),
                   help="list only this (default: everything)")

    p = sub.add_parser("generate", help="generate weighted events and write a ROOT file")
    p.add_argument("process", help="process name (see `nudmsim list processes`)")
    _add_model_args(p)
    p.add_argument("-n", "--events", type=_event_count, default=100_000,
                   help="events to generate, e.g. 1000000 or 1e6 (default 1e5)")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed -> same events)")
    p.add_argument("-o", "--output", required=True, help="output ROOT file")
    p.add_argument("--unweighted", action="store_true",
                   help="write a Poisson-fluctuated unweighted sample (weight 1) instead of weighted events")
    p.add_argument("--compression", default="zstd", choices=("zstd", "lz4", "zlib", "none"),
                   help="ROOT basket compression (default zstd)")

    p = sub.add_parser("predict", help="print expected event counts (and optionally plot the spectrum)")
    p.add_argument("process", help="process name (see `nudmsim list processes`)")
    _add_model_args(p)
    p.add_argument("--plot", metavar="PNG", help="write the predicted spectrum to this PNG")
    p.add_argument("--json", action="store_true", help="print the prediction as JSON")

    p = sub.add_parser("fit", help="fit an analysis to its published data with iminuit")
    p.add_argument("analysis", help="analysis name (see `nudmsim list analyses`)")
    _add_model_args(p, owner="analysis")
    p.add_argument("--plot", metavar="PNG", help="write the fit result plot to this PNG")
    p.add_argument("--json", action="store_true", help="print the fit result as JSON")

    p = sub.add_parser("limit", help="90%% CL limit (or projected sensitivity) vs mass, as CSV + PNG")
    p.add_argument("analysis", help="analysis name (see `nudmsim list analyses`)")
    _add_model_args(p, owner="analysis")
    p.add_argument("--masses", help="comma-separated masses in MeV (default: the analysis grid)")
    p.add_argument("--ratio", type=float, help="second parameter of the curve (e.g. r = m_phi/m_X)")
    p.add_argument("--option", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="analysis-specific option (see `nudmsim list analyses`)")
    p.add_argument("--projected", action="store_true", help="Asimov sensitivity with ±1σ/±2σ bands")
    p.add_argument("--scheduler", help="Dask scheduler address (default: local cluster; 'sync' = in-process)")
    p.add_argument("-o", "--output", help="CSV output (default: limit_<analysis>.csv)")
    p.add_argument("--plot", metavar="PNG", help="PNG output (default: next to the CSV)")
    p.add_argument("--quiet", action="store_true", help="no progress output")

    from .export import add_parser as _add_export

    _add_export(sub)

    p = sub.add_parser("validate", help="run validation checks against published numbers")
    p.add_argument("names", nargs="*", help="check names or prefixes (default: all)")
    p.add_argument("--json", action="store_true", help="print a JSON list of results")

    p = sub.add_parser("demo", help="the main job on embedded defaults: events, ROOT file, fit, limits, plot")
    p.add_argument("--outdir", default="nudmsim_demo", help="output folder (default ./nudmsim_demo)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    return ap


def _glue_signed_values(argv):
    """'--masses -5,10' -> '--masses=-5,10': argparse takes '-5,10' for an option and prints
    'expected one argument'; glued, the value reaches our own one-line check."""
    out = list(argv)
    for i in range(len(out) - 1):
        nxt = out[i + 1]
        if out[i] in ("--masses", "--ratio") and len(nxt) > 1 and nxt[0] == "-" and (nxt[1].isdigit() or nxt[1] == "."):
            out[i:i + 2] = [f"{out[i]}={nxt}", None]
    return [a for a in out if a is not None]


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(_glue_signed_values(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        ap.print_help()
        return EXIT_USER_ERROR
    try:
        if args.command == "export":
            from .export import cmd_export

            return cmd_export(args) or 0
        from . import commands

        return getattr(commands, f"cmd_{args.command}")(args) or 0
    except NudmsimError as exc:
        print(f"nudmsim: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("nudmsim: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # disk full, permission changed mid-run, ...
        print(f"nudmsim: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USER_ERROR


def run() -> None:  # console-script entry point
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
