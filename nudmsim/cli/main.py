"""``nudmsim`` command line: parse, call the library, print.  User errors -> one line, exit 2."""
from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import sys

# numba's OpenMP workers sleep between parallel regions instead of spinning: streamed generation runs short
# kernels while a writer thread compresses, and spinning workers took its CPU (before numba is imported)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .. import __version__
from ..errors import NudmsimError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
#: the command line of this run, as the user typed it (stored in every output's metadata)
COMMAND_LINE = ""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``nudmsim: error: ... (see nudmsim CMD --help)``, exit 2) and
    "did you mean" for unknown commands, choices and options."""

    def error(self, message):
        from ..registry import did_you_mean

        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2)) or [c.strip() for c in m.group(2).split(",")]
            message = (f"{message.split(':')[0]}: unknown '{m.group(1)}'{did_you_mean(m.group(1), choices)} "
                       f"(choose from {', '.join(choices)})")
        m = re.match(r"unrecognized arguments: (.*)", message)
        if m:
            first = m.group(1).split()[0]
            message = f"unrecognized argument '{first}'{did_you_mean(first, self._all_options())}"
        hint = f"see `{self.prog} --help`"
        sys.stderr.write(f"nudmsim: error: {message.strip()} ({hint})\n")
        sys.exit(EXIT_USER_ERROR)

    def _all_options(self):
        opts = set()
        for a in self._actions:
            opts.update(a.option_strings)
            if isinstance(a, argparse._SubParsersAction):
                for p in a.choices.values():
                    for b in p._actions:
                        opts.update(b.option_strings)
        return sorted(opts)


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


def _seed(text: str) -> int:
    """--seed: an integer 0 .. 2^63-1 (range checked by nudmsim.generate.check_seed)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer seed (give 0 .. 2^63-1, e.g. --seed 42)") from None


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="nudmsim", description="Event-level simulator for neutrino-dark-matter "
                                 "physics: events, detector response, ROOT files, fits and limits.")
    ap.add_argument("--version", action="version", version=f"nudmsim {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list processes (with parameters), detectors, analyses and checks")
    p.add_argument("what", nargs="?", choices=("processes", "detectors", "analyses", "checks", "operators"),
                   help="list only this (default: everything but operators)")
    p.add_argument("--dm-type", dest="dm_type", default=None,
                   help="operators: only this DM type (majorana, dirac, real_scalar, pseudoscalar, complex_scalar, vector)")
    p.add_argument("--dim", type=int, default=None, help="operators: only this operator dimension (4-9)")
    p.add_argument("--name", default=None, help="operators: one operator with its UV completions (e.g. Ot8M1, O~8,M1)")

    p = sub.add_parser("generate", help="generate weighted events and write a ROOT (or HepMC3) file")
    p.add_argument("process", help="process name (see `nudmsim list processes`)")
    _add_model_args(p)
    p.add_argument("-n", "--events", type=_event_count, default=100_000,
                   help="events to generate, e.g. 1000000 or 1e6 (default 1e5; up to 1e12, streamed in bounded "
                        "memory; the free disk space is checked first)")
    p.add_argument("--seed", type=_seed, default=None,
                   help="random seed 0..2^63-1 (same seed and -n -> same events; default: drawn and stored)")
    p.add_argument("-o", "--output", required=True,
                   help="output file: NAME.root (ROOT, uproot) or NAME.hepmc / NAME.hepmc3 (HepMC3 ASCII, for "
                        "processes with particle final states)")
    p.add_argument("--columns", default="all", metavar="WHICH",
                   help="ROOT branches: all (default), truth, observables, or a comma-separated list "
                        "(weight and process_id are always written)")
    p.add_argument("--unweighted", action="store_true",
                   help="write a Poisson-fluctuated unweighted sample (weight 1) instead of weighted events")
    p.add_argument("--compression", default="zstd", choices=("zstd", "lz4", "zlib", "none"),
                   help="ROOT basket compression (default zstd)")
    p.add_argument("--chunk-events", type=_event_count, default=None, metavar="N",
                   help="events per written chunk (rounded to whole 65536-event blocks; default from the free "
                        "memory, at most 2^20); never changes the events")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("predict", help="print expected event counts (and optionally plot the spectrum)")
    p.add_argument("process", help="process name (see `nudmsim list processes`)")
    _add_model_args(p)
    p.add_argument("--plot", metavar="PNG", help="write the predicted spectrum to this PNG")
    p.add_argument("--json", action="store_true", help="print the prediction as JSON")

    p = sub.add_parser("fit", help="fit an analysis to its published data with iminuit")
    p.add_argument("analysis", help="analysis name (see `nudmsim list analyses`)")
    _add_model_args(p, owner="analysis")
    p.add_argument("--option", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="analysis option, as for `nudmsim limit` (e.g. --option steady_state=factorised)")
    p.add_argument("--plot", metavar="PNG", help="write the fit result plot to this PNG")
    p.add_argument("--json", action="store_true", help="print the fit result as JSON")

    p = sub.add_parser("limit", help="90%% CL limit (or projected sensitivity) vs mass, as CSV + PNG")
    p.add_argument("analysis", help="analysis name (see `nudmsim list analyses`)")
    _add_model_args(p, owner="analysis")
    p.add_argument("--masses", help="comma-separated masses, MeV unless a unit is given like --set: 1,3,10 or "
                                    "500keV,30MeV,2GeV (default: the analysis grid)")
    p.add_argument("--ratio", type=float, help="second parameter of the curve (e.g. r = m_phi/m_X)")
    p.add_argument("--option", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="analysis-specific option (see `nudmsim list analyses`)")
    p.add_argument("--projected", action="store_true", help="Asimov sensitivity with ±1σ/±2σ bands")
    p.add_argument("--scheduler", help="Dask scheduler address (default: local cluster; 'sync' = in-process)")
    p.add_argument("-o", "--output", help="CSV output (default: limit_<analysis>[_<card>][_r<ratio>]_<observed|"
                                          "projected>[_<option>-<value>].csv, so different runs never collide)")
    p.add_argument("--plot", metavar="PNG", help="PNG output (default: next to the CSV)")
    p.add_argument("--no-hepdata", action="store_true",
                   help="skip the HEPData export (default: a validated submission folder <csv>.hepdata/)")
    p.add_argument("--quiet", action="store_true", help="no progress output")

    from .export import add_parser as _add_export

    _add_export(sub)

    p = sub.add_parser("validate", help="run validation checks against published numbers")
    p.add_argument("names", nargs="*", help="check names or prefixes (default: all)")
    p.add_argument("--json", action="store_true", help="print a JSON list of results")

    p = sub.add_parser("demo", help="the main job on embedded defaults: events, ROOT file, fit, limits, plot")
    p.add_argument("--outdir", default="nudmsim_demo", help="output folder (default ./nudmsim_demo)")
    p.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    _add_extension_parsers(sub)
    return ap


def _add_extension_parsers(sub) -> None:
    """Commands that live in their own modules (each sets ``func`` with ``set_defaults``)."""
    from . import figure, report, scan

    figure.add_parsers(sub)
    report.add_parsers(sub)
    scan.add_parsers(sub)


def _glue_signed_values(argv):
    """'--masses -5,10' -> '--masses=-5,10': argparse takes '-5,10' for an option and prints
    'expected one argument'; glued, the value reaches our own one-line check."""
    out = list(argv)
    for i in range(len(out) - 1):
        nxt = out[i + 1]
        if out[i] in ("--masses", "--ratio") and len(nxt) > 1 and nxt[0] == "-" and (nxt[1].isdigit() or nxt[1] == "."):
            out[i:i + 2] = [f"{out[i]}={nxt}", None]
    return [a for a in out if a is not None]


def _terminate(signum, frame):  # SIGTERM: unwind like Ctrl-C (temporaries removed), exit 143
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    from .. import interrupts

    old_int = interrupts.install()       # never lose a Ctrl-C, even one a library swallows during start-up
    try:
        return _main(argv)
    except KeyboardInterrupt:            # during start-up, before the command runs
        print("nudmsim: interrupted (no output written)", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        interrupts.restore(old_int)


def _main(argv=None) -> int:
    global COMMAND_LINE
    argv = list(sys.argv[1:] if argv is None else argv)
    COMMAND_LINE = shlex.join(["nudmsim", *argv])
    ap = build_parser()
    args, extra = ap.parse_known_args(_glue_signed_values(argv))
    if extra:  # reported by the command's own parser: its options for "did you mean", its --help
        sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
        (sub.choices.get(args.command) or ap).error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        ap.print_help()
        return EXIT_USER_ERROR
    old_term = None
    try:
        old_term = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (tests): no handler
        pass
    try:
        func = getattr(args, "func", None)
        if func is None and args.command == "export":
            from .export import cmd_export as func
        if func is None:
            from . import commands

            func = getattr(commands, f"cmd_{args.command}")
        return func(args) or 0
    except NudmsimError as exc:
        print(f"nudmsim: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("nudmsim: interrupted (no output written)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("nudmsim: error: out of memory (ask for fewer events or points)", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # disk full, permission changed mid-run, ...
        print(f"nudmsim: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def run() -> None:  # console-script entry point
    rc = main()
    if rc == EXIT_INTERRUPTED:  # outputs are already cleaned up: skip the interpreter's teardown (~0.5 s)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(rc)
    sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    run()
