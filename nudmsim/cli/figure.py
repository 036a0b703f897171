"""``nudmsim figure NAME`` (the seed papers' figures, recomputed) and ``nudmsim plot CSV ...`` (overlays)."""
from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

from ..errors import NudmsimError


@contextlib.contextmanager
def numerical_warnings(notes: list):
    """Collect warnings raised while computing (scipy IntegrationWarning, ...) into one line of ``notes``
    instead of pages of stderr; the physics code's warnings stay visible in Python and in tests."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    kinds = sorted({f"{w.category.__name__} ({Path(w.filename).name}:{w.lineno})" for w in caught})
    if kinds:
        notes.append(f"{len(caught)} numerical warning(s) while computing: {', '.join(kinds[:4])}")


def add_parsers(sub) -> None:
    p = sub.add_parser("figure", help="recompute a figure of the seed papers: PDF + PNG + CSV + HEPData",
                       description="Recompute a figure of the seed papers with the library and write "
                                   "DIR/NAME.pdf, .png, .csv (every curve) and NAME.hepdata/ (computed curves). "
                                   "`nudmsim figure --list` names the figures.")
    p.add_argument("name", nargs="*", metavar="NAME", help="figure name(s), e.g. seed004-fig2; 'all' = every one")
    p.add_argument("--list", action="store_true", help="list the figures with their seed and figure number")
    p.add_argument("-o", "--outdir", default="figures", help="output folder (default ./figures, created)")
    p.add_argument("--quick", action="store_true", help="fewer points per curve (a preview in seconds)")
    p.add_argument("--no-hepdata", action="store_true", help="skip the HEPData export")
    p.add_argument("--scheduler", help="Dask scheduler address ('sync' = in-process; default: in-process, "
                                       "a local cluster when a curve is long enough to pay for it)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_figure)

    p = sub.add_parser("plot", help="overlay limit/sensitivity CSVs written by nudmsim (limit, figure)",
                       description="Overlay curves from CSVs written by `nudmsim limit` (observed, expected and "
                                   "bands) or `nudmsim figure` (every curve) on one plot.")
    p.add_argument("csv", nargs="+", help="CSV files written by nudmsim")
    p.add_argument("-o", "--output", required=True, help="output figure (.png, .pdf or .svg)")
    p.add_argument("--title", default=None, help="plot title")
    p.add_argument("--linear", default="", choices=("", "x", "y", "xy"),
                   help="linear axis instead of log (default: log-log)")
    p.set_defaults(func=cmd_plot)


def cmd_figure(args) -> int:
    from .. import figures
    from ..figures import FigureOptions, output
    from ..scan import session
    from .commands import _check_scheduler

    table = figures.load_all()
    if args.list:
        print("Figures (nudmsim figure NAME -o DIR):")
        for e in sorted(table.values(), key=lambda e: (e.seed, e.number, e.name)):
            print(f"  {e.name:<16} seed {e.seed} Fig. {e.number:<4} {e.title}")
        return 0
    if not args.name:
        raise NudmsimError("give a figure name (see nudmsim figure --list), or 'all'")
    names = sorted(table) if args.name == ["all"] else list(args.name)
    entries = [figures.get(n) for n in names]  # unknown names fail before any work
    _check_scheduler(args.scheduler)
    outdir = Path(args.outdir)
    if outdir.exists() and not outdir.is_dir():
        raise NudmsimError(f"-o {outdir}: not a folder (figures write several files)")
    if not outdir.parent.is_dir() and str(outdir.parent) not in ("", "."):
        raise NudmsimError(f"-o {outdir}: parent folder '{outdir.parent}' does not exist")
    with session(args.scheduler) as sess:
        for entry in entries:
            t0 = time.perf_counter()
            opts = FigureOptions(outdir=outdir, quick=args.quick, client=sess, progress=not args.quiet)
            extra: list[str] = []
            with numerical_warnings(extra):
                res = entry.build(opts)
            res.notes += extra
            files = output.write(entry, res, outdir, hepdata=not args.no_hepdata)
            dt = time.perf_counter() - t0
            n_c = sum(cv.computed for cv in res.curves)
            print(f"{entry.name} (seed {entry.seed} Fig. {entry.number}): {n_c} computed + "
                  f"{len(res.curves) - n_c} published curves in {dt:.1f} s -> "
                  + ", ".join(str(f) for f in files))
            for note in res.notes:
                print(f"  note: {note}")
    return 0


def cmd_plot(args) -> int:
    from ..plotting import overlay

    out = overlay(args.csv, args.output, title=args.title, linear=args.linear)
    print(f"{len(args.csv)} file(s) overlaid -> {out}")
    return 0
