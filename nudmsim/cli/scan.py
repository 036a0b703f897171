"""``nudmsim scan SCAN.toml``: grids of limits and predictions, written as they arrive, resumable."""
from __future__ import annotations

import time
from pathlib import Path

from ..errors import NudmsimError


def add_parsers(sub) -> None:
    p = sub.add_parser("scan", help="run a grid of limits / predictions from a scan file (Parquet or CSV, resumable)",
                       description="Run the points of a scan file (see docs/scans.md): [[limit]] blocks over masses, "
                                   "ratios and analyses, [[predict]] blocks over model parameters.  Rows are journaled "
                                   "as they finish; --resume skips finished points and re-runs failed ones.")
    p.add_argument("scanfile", help="scan file (TOML)")
    p.add_argument("-o", "--output", help="output table (.parquet or .csv; default from the scan file)")
    p.add_argument("--resume", action="store_true", help="skip points already done (journal or output), re-run failed")
    p.add_argument("--dry-run", action="store_true", help="validate the file and print the number of points")
    p.add_argument("--scheduler", help="Dask scheduler address, 'local' (a local cluster), 'sync' (in-process); "
                                       "default: in-process, a local cluster when the scan is long enough")
    p.add_argument("--workers", type=int, default=None, help="worker processes of a local cluster (default: cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_scan)


def cmd_scan(args) -> int:
    from .. import scanfile
    from ..io import check_writable
    from .commands import _check_scheduler
    from .figure import numerical_warnings

    spec = scanfile.load(args.scanfile)
    out = scanfile.output_path(spec, args.output)
    check_writable(out)
    _check_scheduler(args.scheduler)
    if args.workers is not None and args.workers < 1:
        raise NudmsimError(f"--workers {args.workers}: give 1 or more")
    points = scanfile.expand(spec)
    if args.dry_run:
        print(f"{spec['scan']['name']}: {len(points)} points -> {out}")
        return 0
    t0 = time.perf_counter()
    notes: list[str] = []
    with numerical_warnings(notes):
        df, failed, n_run = scanfile.run(spec, out=out, resume=args.resume, scheduler=args.scheduler,
                                         progress=not args.quiet, n_workers=args.workers)
    dt = time.perf_counter() - t0
    print(f"{spec['scan']['name']}: {n_run} of {len(points)} points run in {dt:.1f} s "
          f"({len(points) - n_run} already done) -> {out} ({len(df)} rows)")
    for note in notes:
        print(f"  note: {note}")
    if failed:
        print(f"  {len(failed)} failed point(s) (re-run them with --resume):")
        for r in failed[:20]:
            what = r.get("analysis") or r.get("process")
            print(f"    #{r['index']} {r['block']} {what}: {r['error']}")
        return 1
    return 0
