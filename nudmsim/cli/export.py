"""``nudmsim export ANALYSIS [--measurement M] --format pyhf -o workspace.json``: an analysis's likelihood as a
pyhf workspace (JSON).  Thin: the card's Experiment builds the Workspace, :mod:`nudmsim.stats.pyhf_export` maps
it (the mapping is documented there and in docs/statistics.md); the file is written atomically."""
from __future__ import annotations

import json

from .. import cards, registry
from ..errors import NudmsimError
from ..io import atomic_output, check_writable

FORMATS = ("pyhf",)


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write an analysis's likelihood as a pyhf workspace (JSON)")
    p.add_argument("analysis", help="analysis name (see `nudmsim list analyses`)")
    p.add_argument("--detector", "-d", default=None,
                   help="experiment card name (detectors/NAME.toml) or path; default: the analysis's own")
    p.add_argument("--measurement", "-m", default=None,
                   help="measurement of the card ([analysis.measurement.NAME]; default: the card's first)")
    p.add_argument("--set", dest="sets", action="append", metavar="NAME=VALUE", default=[],
                   help="model point of the signal process, for measurements with a signal sample (repeatable)")
    p.add_argument("--format", default="pyhf", choices=FORMATS, help="output format (default pyhf)")
    p.add_argument("-o", "--output", required=True, help="output file (JSON)")


def cmd_export(args) -> int:
    from ..entries import experiment_of

    entry = registry.get_analysis(args.analysis)
    card = cards.load_detector(args.detector or entry.default_detector)
    if card.get("card.kind", str, default="") != "experiment":
        raise NudmsimError(f"analysis '{entry.name}' (card {card.name}) is not an experiment card: only analyses "
                           "on the experiment engine can be exported")
    out = check_writable(args.output)
    if out.suffix.lower() != ".json":
        raise NudmsimError(f"-o {out}: a pyhf workspace is JSON, give a name ending in .json "
                           f"(e.g. -o {out.with_suffix('.json').name})")
    exp = experiment_of(card)
    if exp.analysis is None:
        raise NudmsimError(f"experiment '{exp.name}' has no [analysis] section: nothing to export")
    meas = exp.analysis.measurement(args.measurement)
    names = meas["samples"] or [s["name"] for s in exp.analysis.samples]
    has_signal = any(s["process"] == "signal" for s in exp.analysis.samples if s["name"] in names)
    overrides = registry.parse_set_options(args.sets)
    process, point = None, None
    if has_signal:
        process = exp.analysis.signal_process(None)
        point = exp.point(process, overrides)
    elif overrides:
        raise NudmsimError(f"measurement '{meas['name']}' has no signal sample: --set is not used (drop it)")
    ws = exp.workspace(meas["name"], point=point, process=process)
    spec = ws.to_pyhf()
    with atomic_output(out) as tmp:
        tmp.write_text(json.dumps(spec, indent=1))
    nb = sum(len(c["samples"][0]["data"]) for c in spec["channels"])
    npar = len(spec["measurements"][0]["config"]["parameters"])
    print(f"{entry.name} on {card.name}, measurement {meas['name']}: pyhf workspace -> {out}")
    print(f"  {len(spec['channels'])} channel(s), {nb} bins, samples "
          f"{', '.join(s['name'] for s in spec['channels'][0]['samples'])}; POI {ws.poi}; {npar} parameter "
          f"config(s){'; asimov data (projection card)' if ws.meta.get('asimov') else ''}")
    return 0


__all__ = ["add_parser", "cmd_export", "FORMATS"]
