"""Implementations of the CLI commands (thin: resolve names, call the library, print)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .. import cards, registry
from ..errors import NudmsimError
from ..generate import check_n_events, check_seed, draw_seed, run_metadata
from ..io import check_figure_path, check_writable, transaction


def _load_card(name):
    """A detector card by name or path; a folder, or an unknown name (with did-you-mean), is a one-line error."""
    from pathlib import Path as _P

    p = _P(name)
    if p.is_dir():
        raise NudmsimError(f"--detector {name} is a folder, not a card (give a .toml card file in it, or a card "
                           f"name: {', '.join(cards.available('detector'))})")
    if p.suffix != ".toml" and not p.exists() and "/" not in name:
        known = cards.available("detector")
        if name not in known:
            raise NudmsimError(f"unknown detector '{name}'{registry.did_you_mean(name, known)} (known: "
                               f"{', '.join(known)}; or give a path to a .toml card)")
    return cards.load_detector(name)


def _card_for(entry, detector):
    name = detector or entry.default_detector
    card = _load_card(name)
    allowed = getattr(entry, "detectors", ())
    kind = card.get("card.kind", str, default="")
    if allowed and kind not in allowed:
        raise NudmsimError(f"detector '{card.name}' ({card.path.name}, kind '{kind}') cannot be used for "
                           f"{entry.name} (use a card of kind: {', '.join(allowed)})")
    return card


def _fmt(v):
    if isinstance(v, tuple):
        val, unit = v
        return f"{val:.6g} {unit}" if isinstance(val, (int, float, np.floating)) else f"{val} {unit}"
    return f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v)


def _list_operators(args) -> int:
    from ..models import operators

    if args.name:
        op = operators.get(args.name)
        print(op.summary())
        print(f"  LaTeX: {op.latex}")
        for rule in op.realised_by().values():
            print(f"  realised by: {rule}")
        for top, sets in op.uv.items():
            print(f"  {top}: " + ", ".join("{" + s + "}" for s in sets))
        if op.uv_source:
            print(f"  UV completions from {op.uv_source}")
        return 0
    ops = operators.select(dm_type=args.dm_type, dim=args.dim)
    print(f"Seed 001 Table 1 operators ({len(ops)}; 'Ot' = DM-SMEFT O-tilde; nudmsim list operators --dm-type T --dim D):")
    for op in ops:
        print("  " + op.summary())
    return 0


def cmd_list(args) -> int:
    what = args.what
    if what == "operators":
        return _list_operators(args)
    if any(getattr(args, k, None) is not None for k in ("dm_type", "dim", "name")):
        raise NudmsimError("--dm-type, --dim and --name select operators: use `nudmsim list operators ...`")
    registry.load_all()
    if what in (None, "processes"):
        print("Processes (nudmsim generate/predict PROCESS --set NAME=VALUE):")
        for e in registry.PROCESSES.values():
            print(f"  {e.name:<14} {e.summary}  [default detector: {e.default_detector}]")
            for k, p in e.params.items():
                unit = f" {p.unit}" if p.unit else ""
                print(f"      {k:<10} = {p.default:<10g}{unit:<5} {p.doc}  [range {p.range_text()}]")
    if what in (None, "detectors"):
        print("Detector cards:")
        for name in cards.available("detector"):
            try:
                c = cards.load_detector(name)
                print(f"  {name:<22} {c.get('card.description', str)}")
            except NudmsimError as exc:
                print(f"  {name:<22} (invalid: {exc})")
    if what in (None, "analyses"):
        print("Analyses (nudmsim fit / nudmsim limit ANALYSIS):")
        for e in registry.ANALYSES.values():
            modes = "/".join(m for m in ("fit", "limit") if getattr(e, m))
            print(f"  {e.name:<18} [{modes}] {e.summary}")
            for k, v in e.limit_options.items():
                print(f"      --option {k}: {v}")
    if what in (None, "checks"):
        print("Validation checks (nudmsim validate NAME):")
        for e in registry.CHECKS.values():
            print(f"  {e.name:<34} {e.description}")
    return 0


def _command_line() -> str:
    import importlib

    return importlib.import_module("nudmsim.cli.main").COMMAND_LINE


def cmd_generate(args) -> int:
    from ..progress import progress
    from ..stream import BLOCK_EVENTS, RootSink, output_format, run, tune_allocator

    entry = registry.get_process(args.process)
    n = check_n_events(args.events)
    seed = check_seed(args.seed)
    out = check_writable(args.output, "-o")
    fmt = output_format(out)
    if fmt == "hepmc" and entry.final_state is None:
        with_fs = sorted(e.name for e in registry.PROCESSES.values() if e.final_state is not None)
        raise NudmsimError(f"-o {out}: {entry.name} events are recoils, not particle final states; HepMC3 output "
                           f"is for {', '.join(with_fs)} (write ROOT: -o {out.with_suffix('.root').name})")
    if fmt == "hepmc" and args.columns != "all":
        raise NudmsimError("--columns applies to ROOT output; HepMC3 events always hold the full particle record")
    if args.chunk_events is not None and args.chunk_events <= 0:
        raise NudmsimError("--chunk-events must be a positive number of events")
    card = _card_for(entry, args.detector)
    params = registry.resolve_params(entry.params, registry.parse_set_options(args.sets), entry.name)
    drawn = seed is None
    if drawn:
        seed = draw_seed()
    units = {k: p.unit for k, p in entry.params.items()}

    hint = args.columns if entry.columns_hint and args.columns not in (None, "all") else None

    def producer(k, rng):
        return entry.generate(params, card, k, rng, columns=hint) if hint else entry.generate(params, card, k, rng)

    def metadata(res=None, first=None):
        info = res.info if res is not None else first.info
        written = res.n_written if res is not None else (0 if args.unweighted else n)
        sample = registry.EventSample(range(written),
                                      res.expected_total if res is not None else first.expected_total, info)
        return run_metadata(entry.name, params, card, seed, n, sample, units=units, command=_command_line(),
                            columns=res.columns if res is not None else None, unweighted=bool(args.unweighted),
                            seed_drawn=drawn, seed_block=BLOCK_EVENTS, output_format=fmt)

    if fmt == "root":
        sink, size = RootSink(args.compression), None
    else:
        from .. import hepmc

        sink = hepmc.HepMCSink(entry.final_state, lambda first: metadata(first=first))
        size = lambda dtypes: hepmc.bytes_per_event(5)  # noqa: E731  (up to 5 particles per event)
    tune_allocator()
    t0 = time.perf_counter()
    with progress(total=n, desc=f"generate {entry.name}", unit="ev", quiet=args.quiet, unit_scale=True) as bar:
        res = run(producer, n, seed, sink, out, columns=args.columns, observables=entry.observables,
                  unweighted=bool(args.unweighted), chunk_events=args.chunk_events, metadata=metadata,
                  progress=bar, bytes_per_event_on_disk=size)
    dt = time.perf_counter() - t0
    print(f"{entry.name} on {card.name}: {n} generated, {res.n_written} written to {out} "
          f"(seed {seed}{', drawn' if drawn else ''})")
    print(f"  expected events in exposure: {res.expected_total:.6g}")
    print(f"  time: {dt:.2f} s ({n / max(dt, 1e-9):.3g} ev/s, generation and writing overlapped)")
    return 0


def _finite_or_fail(what: str, values: dict) -> None:
    """Results must be finite before they are printed or written (inf/NaN here means a parameter out of the
    range double precision can handle, or a broken input)."""
    for k, v in values.items():
        val = v[0] if isinstance(v, tuple) else v
        if isinstance(val, (int, float, np.floating, np.integer)) and not isinstance(val, bool) \
                and not np.isfinite(val):
            raise NudmsimError(f"{what}: '{k}' is {val} (not finite) at this model point; check the parameters "
                               "against their ranges (`nudmsim list processes`) and the cards' inputs")


def cmd_predict(args) -> int:
    entry = registry.get_process(args.process)
    if entry.predict is None:
        raise NudmsimError(f"process '{entry.name}' has no prediction (use nudmsim generate)")
    if args.plot:
        check_figure_path(args.plot, "--plot")
    card = _card_for(entry, args.detector)
    params = registry.resolve_params(entry.params, registry.parse_set_options(args.sets), entry.name)
    pred = entry.predict(params, card)
    scalars = {k: v for k, v in pred.items() if not k.startswith("_")}
    _finite_or_fail(f"predict {entry.name}", scalars)
    if args.json:
        print(json.dumps({k: (v[0] if isinstance(v, tuple) else v) for k, v in scalars.items()}, default=float,
                         allow_nan=False))
    else:
        point = ", ".join(f"{k}={v:g}" for k, v in params.items())
        print(f"{entry.name} on {card.name}" + (f" with {point}" if point else " (no model parameters)"))
        for k, v in scalars.items():
            print(f"  {k:<32} {_fmt(v)}")
    if args.plot:
        plot = pred.get("_plot")
        if plot is None:
            raise NudmsimError(f"process '{entry.name}' has no spectrum plot")
        plot(args.plot)
        print(f"  spectrum plot: {args.plot}")
    return 0


def cmd_fit(args) -> int:
    entry = registry.get_analysis(args.analysis)
    if entry.fit is None:
        raise NudmsimError(f"analysis '{entry.name}' has no fit to data (try nudmsim limit {entry.name})")
    if args.plot:
        check_figure_path(args.plot, "--plot")
    card = _load_card(args.detector or entry.default_detector)
    sets = registry.parse_set_options(args.sets)
    opts = registry.parse_set_options(getattr(args, "options", []))
    # --set is for model parameters and --option for analysis options, in every command; the fits have no model
    # parameters and used to read their options from --set, which still works (with a note)
    both = sorted(set(sets) & set(opts))
    if both:
        raise NudmsimError(f"fit {entry.name}: '{both[0]}' given with both --set and --option (use --option)")
    res = entry.fit(card, {**sets, **opts}, plot=args.plot)
    _finite_or_fail(f"fit {entry.name}", {k: v for k, v in res.items() if not k.startswith("_")})
    if sets:
        import sys

        print(f"note: fit options are --option KEY=VALUE (--set is for model parameters): "
              f"{' '.join(f'--option {k}={v}' for k, v in sets.items())}", file=sys.stderr)
    if args.json:
        print(json.dumps({k: (v[0] if isinstance(v, tuple) else v) for k, v in res.items()
                          if not k.startswith("_")}, default=float, allow_nan=False))
    else:
        print(f"fit {entry.name} on {card.name}:")
        for k, v in res.items():
            if not k.startswith("_"):
                print(f"  {k:<32} {_fmt(v)}")
    return 0


def _parse_masses(text):
    """'1,3,10' (MeV) or with units like --set: '30GeV,500keV,10' -> array in MeV."""
    if text is None:
        return None
    from ..registry import Param, parse_value
    from ..errors import ParameterError

    vals = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        try:
            vals.append(parse_value("m", item, Param(1.0, "MeV")))
        except ParameterError:
            raise NudmsimError(f"--masses '{text}': '{item}' is not a mass; give comma-separated numbers in MeV "
                               "or with a unit (e.g. 1,3,10 or 500keV,30MeV,2GeV)") from None
    vals = np.array(vals, dtype=float)
    if vals.size == 0 or not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise NudmsimError(f"--masses '{text}': masses must be finite and > 0 (MeV unless a unit is given)")
    return vals


def default_limit_name(analysis: str, card_name: str, default_card: str, ratio, projected: bool,
                       options: dict) -> str:
    """limit_<analysis>[_<card>][_r<ratio>]_<observed|projected>[_<key>-<value>...].csv: two runs that differ in
    analysis, card, ratio, mode or options never write the same file."""
    parts = ["limit", analysis]
    if card_name != default_card:
        parts.append(card_name)
    if ratio is not None:
        parts.append(f"r{ratio:g}")
    parts.append("projected" if projected else "observed")
    for k in sorted(options):
        parts.append(f"{k}-{options[k]}")
    name = "_".join(parts)
    return "".join(ch if (ch.isalnum() or ch in "._-+") else "-" for ch in name) + ".csv"


def _check_scheduler(address):
    """'sync', 'local', None or a Dask address with a port (a bad one gave a distributed traceback)."""
    if address in (None, "sync", "local"):
        return
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        proto, loc = parse_address(address)
        if proto in ("tcp", "tls", "ws", "wss", "ucx"):
            parse_host_port(loc)
    except (ValueError, TypeError) as exc:
        raise NudmsimError(f"--scheduler {address}: not a Dask scheduler address ({exc}); give e.g. "
                           "tcp://host:8786, or 'sync' to run in-process") from None
    from ..scan import probe_scheduler

    probe_scheduler(address)  # before any work: a silent or foreign server fails in seconds


def cmd_limit(args) -> int:
    from ..stats.curves import LimitRequest

    entry = registry.get_analysis(args.analysis)
    if entry.limit is None:
        raise NudmsimError(f"analysis '{entry.name}' has no limit (try nudmsim fit {entry.name})")
    if args.ratio is not None and (not np.isfinite(args.ratio) or args.ratio <= 0):
        raise NudmsimError(f"--ratio {args.ratio}: must be a finite number > 0")
    opts = registry.parse_set_options(args.options, "--option")
    card = _load_card(args.detector or entry.default_detector)
    csv_text = args.output or default_limit_name(entry.name, card.name, entry.default_detector, args.ratio,
                                                 args.projected, opts)
    check_writable(csv_text, "-o")
    if args.plot:
        check_figure_path(args.plot, "--plot")
    csv = Path(csv_text)
    png = Path(args.plot) if args.plot else csv.with_suffix(".png")
    check_figure_path(png, "--plot")
    if png.resolve() == csv.resolve():
        raise NudmsimError(f"-o and --plot are the same file '{csv}' (give different names)")
    hep = None
    if not getattr(args, "no_hepdata", False):
        from ..hepdata import hepdata_dir_for

        hep = hepdata_dir_for(csv)
    _check_scheduler(args.scheduler)
    req = LimitRequest(card=card, masses=_parse_masses(args.masses), ratio=args.ratio,
                       projected=args.projected, params=registry.parse_set_options(args.sets),
                       scheduler=args.scheduler, progress=not args.quiet, options=opts)
    t0 = time.perf_counter()
    curve = entry.limit(req)
    dt = time.perf_counter() - t0
    for name, arr in (("x", curve.x), ("observed", curve.observed), ("expected", curve.expected),
                      *((f"band {k}", v) for k, v in (curve.bands or {}).items())):
        if arr is not None and np.any(np.isinf(np.asarray(arr, dtype=float))):
            raise NudmsimError(f"limit {entry.name}: the {name} curve has infinite values; nothing was written "
                               "(check the options and the card's inputs)")
    outputs = [csv, png] + ([hep] if hep is not None else [])
    with transaction(*outputs, dirs=[hep] if hep is not None else []) as tmps:  # all files or none
        curve.write_csv(tmps[0])
        curve.plot(tmps[1])
        if hep is not None:
            from ..hepdata import write_limit_curve

            write_limit_curve(curve, tmps[2], name=csv.stem[:64])
    print(f"{curve.title}: {len(curve.x)} points in {dt:.1f} s -> {', '.join(map(str, outputs))}")
    meas = [p for p in (curve.provenance or "").split("; ") if p.startswith("measurement ")]
    if meas:   # which likelihood (e.g. which steady-state background model) and why
        print(f"  {meas[0]}")
    y = curve.observed if np.any(np.isfinite(curve.observed)) else curve.expected
    for xv, yv in zip(curve.x, y):
        bound = (f"{curve.y_label} {curve.relation} {yv:.3e} {curve.y_unit}" if np.isfinite(yv) else
                 "no limit: no sensitivity at this mass (NaN in the CSV)")
        print(f"  {curve.x_label} = {xv:<10.4g} {curve.x_unit:<4}  {bound}".rstrip())
    return 0


def cmd_validate(args) -> int:
    registry.load_all()
    names = list(registry.CHECKS)
    if args.names:
        sel = [n for n in names if any(n == a or n.startswith(a) for a in args.names)]
        unknown = [a for a in args.names if not any(n == a or n.startswith(a) for n in names)]
        if unknown:
            raise NudmsimError(f"unknown validation check '{unknown[0]}'{registry.did_you_mean(unknown[0], names)} "
                               "(see `nudmsim list checks`)")
        names = sel
    results = []
    for n in names:
        t0 = time.perf_counter()
        r = registry.CHECKS[n]()
        results.append(r)
        if not args.json:
            status = {"info": "INFO", "skip": "SKIP"}.get(r.status, "PASS" if r.passed else "FAIL")
            print(f"[{status}] {r.name:<36} value {r.value:<12.5g} reference {r.reference:<12.5g} "
                  f"tolerance ±{r.tolerance:<10.3g} {r.unit}  ({time.perf_counter() - t0:.1f} s)",
                  flush=True)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
    else:
        n_ok = sum(r.passed for r in results)
        print(f"{n_ok} passed, {len(results) - n_ok} failed")
    return 0 if all(r.passed for r in results) else 1


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(Path(args.outdir), seed=args.seed)
