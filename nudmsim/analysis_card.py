"""The ``[analysis]`` section of an experiment card: data, samples, modifiers, measurements -> a Workspace.

Card syntax (HistFactory's vocabulary; every key is declared below and documented in docs/cards.md)::

    [analysis]
    poi = "mu"                                   # default parameter of interest
    signal = ["nu-to-x"]                         # model processes a `process = "signal"` sample may take
    data = { counts = "coherent_csi_2017/csi2018_counts_PE_time.csv", value = "C_beamOn" }
    range = { pe = [0.0, 50.0] }                 # bins used (by bin centre), optional

    [[analysis.sample]]
    name = "cevns"
    process = "cevns"                            # expected histogram of a process at the model point
    modifiers = [ { type = "normsys", name = "flux", error = 0.10 } ]

    [[analysis.sample]]
    name = "neutrons"                            # a product of 1-D shapes from files
    shapes = { pe = { file = "...", x = "pe_center", value = "prompt_neutrons_per_GWh", normalise = false },
               t_us = { file = "...", x = "t_us", value = "pdf_prompt_neutrons" } }
    scale = 7.47594                              # x the shapes' product (here: the exposure in GWh)
    modifiers = [ { type = "normsys", name = "neutron_norm", error = 0.25 } ]

    [[analysis.sample]]
    name = "steady_state"                        # data-driven: a side window measured in the same exposure
    from_data = { counts = "...", value = "AC_beamOn" }
    treatment = "on_off"                         # bin-by-bin, profiled; or "factorised" (PE x time projections)

    [[analysis.sample]]                          # a binned histogram from a file, a shape variation from files
    name = "brn"                                 # (shapes with `response = ["time_eff"]`: only those stages)
    template = { counts = "...", value = "brn" }
    modifiers = [ { type = "histosys", name = "brn_energy", up = { counts = "...", value = "brn_up" } } ]

    [analysis.measurement.fit]                   # named measurements: POI, samples, fixed parameters
    poi = "n_cevns"
    samples = ["cevns", "neutrons", "steady_state"]

Response-stage nuisances (a quenching factor with an error, efficiency parameters, ...) become histosys
modifiers of every process sample (``nuisances = "all"``, the default) with templates at the stage's knots.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .analysis_files import SHAPE, _columns, _table, histogram_from_file, shapes_rows  # noqa: F401 (re-exported)
from .errors import CardError, NudmsimError
from .response.stage import Batch
from .schema import Field, Section, suggest, validate
from .stats.kinds import check_kind_name, check_likelihood_options
from .stats.workspace import PARAMETRIC, Modifier, ParameterConfig, Sample, Workspace

DATA = Section("analysis.data", "a data set on the observables: binned counts or unbinned events", fields=(
    Field("counts", str, default=None, doc="CSV of binned counts: one column per observable (bin centres) and "
                                           "the count column named by `value`"),
    Field("events", str, default=None, doc="CSV of events: one column per observable (binned on load)"),
    Field("value", str, default="", doc="counts: the column holding the counts"),
    Field("columns", dict, default={}, doc="observable -> column name in the file (default: the same name)"),
    Field("scale", float, default=1.0, lo=0, lo_open=True, doc="multiplies the counts (e.g. an exposure ratio)"),
), one_of=(("counts", "events"),))

MODIFIER = Section("analysis.sample.modifiers[]", "a modifier of the sample (HistFactory)", fields=(
    Field("type", str, choices=("normfactor", "normsys", "histosys"),
          doc="normfactor (free), normsys (constrained normalisation) or histosys (a shape variation from "
              "files, template samples only)"),
    Field("name", str, doc="parameter name (shared by samples that use the same name)"),
    Field("error", float, default=None, lo=0, lo_open=True, doc="normsys: relative 1-sigma error"),
    Field("error_hi", float, default=None, lo=0, lo_open=True, doc="normsys: relative error upwards"),
    Field("error_lo", float, default=None, lo=0, lo_open=True, doc="normsys: relative error downwards"),
    Field("up", DATA, default=None, doc="histosys: the sample at +1 sigma (a binned file read as data are)"),
    Field("down", DATA, default=None, doc="histosys: the sample at -1 sigma (absent: the mirror of up about "
                                          "the nominal, 2 nominal - up, clipped at 0)"),
))

SAMPLE = Section("analysis.sample", "one contribution to the expected counts; give exactly one source of it",
                 fields=(
    Field("name", str, doc="sample name"),
    Field("process", str, default=None, doc="a process of the card (or \"signal\": the command's model process)"),
    Field("point", dict, default={}, doc="model-point overrides for the process (e.g. reference couplings)"),
    Field("shapes", dict, default=None, doc="observable -> 1-D shape table (a factorised template)"),
    Field("from_data", DATA, default=None, doc="a control data set measured in the same exposure"),
    Field("template", DATA, default=None, doc="a binned histogram on the observables from a file (expected events "
                                              "per bin, already in reconstructed quantities: no response applied)"),
    Field("parametric", dict, default=None, doc="{ model = \"power_law\", on = OBSERVABLE, <param> = "
                                                "{ init, bounds, name } } a shape with free parameters"),
    Field("treatment", str, default="on_off", choices=("on_off", "factorised"),
          doc="from_data: on_off = every bin its own background, profiled (Barlow-Beeston-lite); factorised = "
              "N x P(axis 1) x P(axis 2) with a sqrt(N) normalisation error"),
    Field("tau", float, default=1.0, lo=0, lo_open=True, doc="from_data on_off: control/signal exposure ratio"),
    Field("scale", float, default=1.0, lo=0, lo_open=True, doc="multiplies the sample (e.g. exposure, 10x)"),
    Field("norm", float, default=None, lo=0, doc="shapes: total events of the sample (before efficiencies)"),
    Field("response", (str, list), item=str, default="auto",
          doc="which response stages apply to a file shape: auto (= efficiencies; processes: all), all, "
              "efficiencies, none, or a list of stage labels (a stage's `name`, e.g. [\"time_eff\"]: "
              "a shape that already includes the other efficiencies)"),
    Field("nuisances", (str, list), item=str, default="all",
          doc="response nuisances that become histosys modifiers: \"all\", \"none\" or a list of names"),
    Field("knots", dict, default={}, doc="nuisance -> number of template knots (odd, >= 3) over its span"),
    Field("unit_normalised", bool, default=False, doc="divide by the sum at every parameter point (a "
                                                       "normfactor on it is then the event count)"),
    Field("modifiers", list, item=MODIFIER, default=[], doc="normfactors and normsys of this sample"),
    Field("inherit", list, item=str, default=[],
          doc="process samples: model-point parameters taken from the command's point (e.g. the lepton flavour "
              "of a limit scan; the sample is built once per their values)"),
    Field("when", dict, default={}, doc="parameter -> value: the sample enters only at command points where "
                                        "the parameters have these values (e.g. a lepton-specific background)"),
    Field("scale_to", dict, default=None,
          doc="{ sample = NAME, fraction = F }: normalised to F x the events of sample NAME in the analysis range "
              "(a parametric shape takes the factor as its `scale` argument)"),
), one_of=(("process", "shapes", "from_data", "parametric", "template"),))

PARAMCFG = Section("analysis.parameters.<name>", "initial value, bounds or fixing of a parameter", fields=(
    Field("init", float, default=None, doc="initial value"),
    Field("bounds", list, default=None, length=2, doc="[low, high]"),
    Field("fixed", bool, default=False, doc="hold at init"),
))

MEASUREMENT = Section("analysis.measurement.<name>", "a named likelihood configuration", fields=(
    Field("poi", str, default=None, doc="parameter of interest (default: analysis.poi)"),
    Field("samples", list, item=str, default=None, doc="samples included (default: all)"),
    Field("fixed", dict, default={}, doc="parameter -> value held fixed"),
    Field("description", str, default="", doc="what the measurement is"),
    Field("cross_check", list, item=str, default=[], doc="other measurements whose POI the fit reports beside"),
))

ANALYSIS = Section("analysis", "the statistical analysis of the experiment", fields=(
    Field("poi", str, default="mu", doc="default parameter of interest"),
    Field("cl", float, default=0.9, lo=0, hi=1, lo_open=True, hi_open=True, doc="confidence level of limits"),
    Field("method", str, default="plr", choices=("plr", "cls", "delta-chi2"), doc="limit method"),
    Field("signal", list, item=str, default=[], doc="model processes a `process = \"signal\"` sample may take"),
    Field("data", DATA, default=None, doc="observed data (absent: a projection, Asimov data)"),
    Field("range", dict, default={}, doc="observable -> [low, high]: bins whose centre lies inside are used"),
    Field("sample", list, item=SAMPLE, doc="the samples ([[analysis.sample]])"),
    Field("parameters", dict, default={}, doc="parameter -> { init, bounds, fixed }"),
    Field("measurement", dict, default={}, doc="name -> measurement table"),
    Field("limit", dict, default={}, doc="limit-scan settings, or name -> settings (see docs/cards.md)"),
    Field("likelihood", str, default="poisson", check=lambda v: check_kind_name(v),
          doc="likelihood kind (nudmsim/stats/kinds.py): poisson (binned, HistFactory), binwise_table (a "
              "release's per-bin -2 ln L tables), bin_bound (most-constraining-bin Poisson bound), "
              "published_limit (a release's upper-limit curve on the signal rate)"),
    Field("likelihood_options", dict, default={}, doc="the likelihood kind's keys (its own schema)"),
    Field("roi", dict, default={}, doc="observable -> [low, high]: a region of interest whose expected events "
                                       "`nudmsim predict` reports (bins by centre; not used by the likelihood)"),
    Field("calibration", dict, default={}, doc="name -> calibration settings: a registered procedure that sets "
                                                "background parameters from a published result "
                                                "(nudmsim/stats/calibration.py)"),
))


# ------------------------------------------------------------------------------------------------
# the parsed section
# ------------------------------------------------------------------------------------------------
@dataclass
class Analysis:
    exp: object
    values: dict
    observed: np.ndarray | None
    mask: np.ndarray
    measurements: dict
    likelihood: dict = None
    roi_mask: np.ndarray | None = None
    _fixed_samples: dict = field(default_factory=dict, repr=False)

    @property
    def kind(self):
        from .stats.kinds import get_kind

        return get_kind(self.values["likelihood"])

    @property
    def samples(self) -> list[dict]:
        return self.values["sample"]

    def measurement(self, name: str | None) -> dict:
        if name is None:
            name = "default" if "default" in self.measurements else next(iter(self.measurements))
        if name not in self.measurements:
            hint = suggest(name, self.measurements)
            raise NudmsimError(f"{self.exp.name}: no measurement '{name}' ({hint + ' ' if hint else ''}"
                               f"measurements: {', '.join(self.measurements)})")
        return dict(self.measurements[name], name=name)

    def signal_process(self, process: str | None) -> str:
        sig = self.values["signal"]
        if process is None:
            if not sig:
                raise NudmsimError(f"{self.exp.name}: the analysis has a signal sample but names no signal "
                                   "process ([analysis] signal = [...])")
            return sig[0]
        if process not in sig:
            raise NudmsimError(f"{self.exp.name}: process '{process}' is not a signal of this analysis "
                               f"(signals: {', '.join(sig) or 'none'})")
        return process

    # -- building the workspace -------------------------------------------------------------------
    def workspace(self, measurement: str | None = None, *, point=None, process: str | None = None,
                  observed=None) -> Workspace:
        """The likelihood of ``measurement`` with signal samples at model ``point`` of ``process``."""
        exp = self.exp
        m = self.measurement(measurement)
        names = m["samples"] or [s["name"] for s in self.samples]
        samples, params = [], {}
        mask = self.mask.copy()
        for s in self.samples:
            if s["name"] not in names or not _applies(s, point):
                continue
            if s["process"] == "signal":
                smp, sp, smask = self._sample(s, point, process)
            else:   # independent of the model point (but for inherited parameters): built once
                key = (s["name"],) + tuple((k, (point or {}).get(k)) for k in s["inherit"])
                if key not in self._fixed_samples:
                    self._fixed_samples[key] = self._sample(s, point, process)
                smp, sp, smask = self._fixed_samples[key]
            samples.append(smp)
            for k, cfg in sp.items():
                params.setdefault(k, cfg)
            if smask is not None:
                mask &= smask
        samples = _scaled_to(samples, self.samples, mask, exp.card.path)
        unknown = set(names) - {s["name"] for s in self.samples}
        if unknown:
            raise CardError(exp.card.path, f"analysis.measurement.{m['name']}.samples",
                            f"names unknown sample(s) {', '.join(sorted(unknown))}")
        for k, cfg in self.values["parameters"].items():
            if k in params:
                v = validate(cfg, PARAMCFG, path=exp.card.path, prefix=f"analysis.parameters.{k}")
                ch = {kk: (tuple(vv) if kk == "bounds" else vv) for kk, vv in v.items() if vv not in (None, False)}
                params[k] = ParameterConfig(**{**params[k].__dict__, **ch})
        poi = m["poi"] or self.values["poi"]
        for k, val in m["fixed"].items():
            if k not in params:
                raise CardError(exp.card.path, f"analysis.measurement.{m['name']}.fixed.{k}", "is not a parameter",
                                suggest(k, params) or f"parameters: {', '.join(params)}")
            params[k] = ParameterConfig(**{**params[k].__dict__, "init": float(val), "fixed": True})
        if poi not in params:
            raise CardError(exp.card.path, f"analysis.measurement.{m['name']}.poi",
                            f"'{poi}' is not a parameter of the measurement", suggest(poi, params) or
                            f"parameters: {', '.join(params)}")
        obs = observed if observed is not None else self.observed
        like = dict(self.likelihood or {"kind": "poisson"})
        kind = self.kind
        if kind.at_point is not None and any(s["process"] == "signal" for s in self.samples if s["name"] in names):
            like = kind.at_point(like, exp, point, self.signal_process(process))
        ws = Workspace(f"{exp.name}:{m['name']}", obs if obs is not None else np.zeros(exp.observables.shape),
                       tuple(samples), params, poi, exp.observables.edges, mask,
                       {"experiment": exp.name, "measurement": m["name"], "asimov": obs is None,
                        "point": dict(point or {}), "process": process}, like)
        if obs is None and kind.projection:   # a projection: Asimov data at the parameters' initial values
            spec = ws.spec()
            ws.observed = spec.expected(spec.nominal())
            ws.meta["asimov"] = True
        return ws

    def _sample(self, s: dict, point, process):
        exp = self.exp
        key = f"analysis.sample[{s['name']}]"
        mods, params, smask = [], {}, None
        shape_mods = []
        for i, md in enumerate(s["modifiers"]):
            if md["type"] == "histosys":
                if s["template"] is None:
                    raise CardError(exp.card.path, f"{key}.modifiers[{i}].type", "is histosys, which only template "
                                    "samples take from files", "process samples get shape nuisances from the "
                                    "response stages' errors")
                shape_mods.append((i, md))
                continue
            mods.append(_modifier(md, exp.card.path, f"{key}.modifiers[{i}]", params))
        if s["template"] is not None:
            if s["response"] not in ("auto", "none"):
                raise CardError(exp.card.path, f"{key}.response", f"is {s['response']!r}", "a template is already in "
                                "reconstructed quantities: drop the key")
            nominal = histogram_from_file(exp, s["template"], f"{key}.template")
            for i, md in shape_mods:
                mod, cfg = self._histosys_from_files(md, nominal, f"{key}.modifiers[{i}]")
                mods.append(mod)
                params.setdefault(mod.name, cfg)
        elif s["process"] is not None:
            proc = s["process"]
            pt = dict(s["point"])
            if proc == "signal":
                proc = self.signal_process(process)
                pt.update(point or {})
            else:
                pt.update({k: point[k] for k in s["inherit"] if point and k in point})
            nominal, hmods, hparams = self._process_templates(proc, pt, s, key)
            mods += hmods
            params.update(hparams)
        elif s["shapes"] is not None:
            rows = shapes_rows(exp, s["shapes"], key)
            if s["norm"] is not None:
                rows = rows.scaled(s["norm"] / rows.total)
            nominal = self._through_response(rows, s, {})
            hmods, hparams = self._file_nuisances(rows, s, nominal)
            mods += hmods
            params.update(hparams)
        elif s["from_data"] is not None:
            counts = histogram_from_file(exp, s["from_data"], f"{key}.from_data")
            if s["treatment"] == "on_off":
                nominal = counts / s["tau"]
                mods.append(Modifier("onoff", s["name"], {"off": counts * s["scale"], "tau": s["tau"]}))
            else:
                nominal, smask, mod, cfg = _factorised(counts, s)
                mods.append(mod)
                params[mod.name] = cfg
        else:
            nominal, mod, cfg = self._parametric(s, key)
            mods.append(mod)
            params.update(cfg)
        nominal = np.asarray(nominal, float) * (s["scale"] if s["from_data"] is None else 1.0)
        if s["from_data"] is None and s["scale"] != 1.0:
            mods = [Modifier(m.type, m.name, {**m.data, "templates": [np.asarray(t) * s["scale"] for t in
                                                                     m.data["templates"]]})
                    if m.type == "histosys" else m for m in mods]
        if s["unit_normalised"]:   # a normfactor on a unit-normalised sample is its event count
            for m in mods:
                if m.type == "normfactor" and params.get(m.name) is not None and params[m.name].init == 1.0:
                    params[m.name] = ParameterConfig(**{**params[m.name].__dict__, "init": float(nominal.sum()),
                                                        "doc": f"events of {s['name']}"})
        return Sample(s["name"], nominal, tuple(mods), s["unit_normalised"]), params, smask

    def _histosys_from_files(self, md: dict, nominal: np.ndarray, key: str):
        """A histosys modifier whose ±1σ templates are binned files (``up``, ``down`` = mirror when absent)."""
        exp = self.exp
        if md["up"] is None:
            raise CardError(exp.card.path, f"{key}.up", "is missing", "give the +1 sigma template: up = { counts = "
                            "\"FILE\", value = \"COLUMN\" }")
        for k in ("error", "error_hi", "error_lo"):
            if md[k] is not None:
                raise CardError(exp.card.path, f"{key}.{k}", "is not used by histosys", "drop it")
        up = histogram_from_file(exp, md["up"], f"{key}.up")
        down = (histogram_from_file(exp, md["down"], f"{key}.down") if md["down"] is not None
                else np.maximum(2.0 * nominal - up, 0.0))
        cfg = ParameterConfig(md["name"], 0.0, (-5.0, 5.0), (0.0, 1.0), doc=f"shape variation {md['name']} (files)",
                              physical=(0.0, 1.0, 1.0, "sigma"))
        return Modifier("histosys", md["name"], {"knots": [-1.0, 0.0, 1.0], "templates": [down, nominal, up]}), cfg

    def _nuisance_list(self, s: dict) -> list:
        exp = self.exp
        nu = s["nuisances"]
        allnu = [n for st in exp.stages for n in st.nuisances()]
        if nu == "all":
            return allnu
        if nu == "none":
            return []
        if isinstance(nu, str):
            raise CardError(exp.card.path, f"analysis.sample[{s['name']}].nuisances",
                            f"is '{nu}'", "give \"all\", \"none\" or a list of nuisance names")
        names = {n.name: n for n in allnu}
        for k in nu:
            if k not in names:
                raise CardError(exp.card.path, f"analysis.sample[{s['name']}].nuisances", f"'{k}' is not a "
                                "response nuisance", suggest(k, names) or f"nuisances: {', '.join(names)}")
        return [names[k] for k in nu]

    def _knots(self, nu, s: dict) -> np.ndarray:
        """Knots (in sigma) of a nuisance's templates: the sample's ``knots = { name = n }`` or
        ``{ name = { n = 25, span = 3.0 } }``, else the stage's default (3 knots at -1, 0, +1)."""
        key = f"analysis.sample[{s['name']}].knots.{nu.name}"
        spec = s["knots"].get(nu.name, {"n": nu.knots, "span": nu.span})
        if isinstance(spec, dict):
            bad = set(spec) - {"n", "span"}
            if bad:
                raise CardError(self.exp.card.path, f"{key}.{sorted(bad)[0]}", "is not a valid key",
                                suggest(sorted(bad)[0], ("n", "span")) or "keys: n, span")
            k, span = spec.get("n", 3), spec.get("span", 1.0)
        else:
            k, span = spec, 1.0
        if isinstance(k, bool) or not isinstance(k, int) or k < 3 or k % 2 == 0:
            raise CardError(self.exp.card.path, key, f"must be an odd integer >= 3, got {k!r}")
        if isinstance(span, bool) or not isinstance(span, (int, float)) or not span > 0:
            raise CardError(self.exp.card.path, f"{key}.span", f"must be > 0 (sigma), got {span!r}")
        for name in s["knots"]:
            if name not in {n.name for st in self.exp.stages for n in st.nuisances()}:
                raise CardError(self.exp.card.path, f"analysis.sample[{s['name']}].knots.{name}",
                                "is not a response nuisance", suggest(name, self.exp.nuisance_nominal) or "")
        return np.linspace(-float(span), float(span), k)

    def _process_templates(self, proc, pt, s, key):
        exp = self.exp
        if s["response"] not in ("auto", "all"):
            raise CardError(exp.card.path, f"{key}.response", f"is {s['response']!r}",
                            "process samples go through the whole response chain (drop the key)")
        nominal = exp.expected(proc, pt).counts
        mods, params = [], {}
        for nu in self._nuisance_list(s):
            knots = self._knots(nu, s)
            temps = [exp.expected(proc, pt, {nu.name: nu.value(t)}).counts if t != 0 else nominal for t in knots]
            mods.append(Modifier("histosys", nu.name, {"knots": knots.tolist(), "templates": temps}))
            params[nu.name] = _nuisance_cfg(nu, knots)
        return nominal, mods, params

    def _file_stages(self, rows: Batch, s: dict) -> list:
        """The response stages a file-shape sample goes through (``response`` of the sample): auto =
        efficiencies = the efficiency and cut stages on columns the shape has; all = every stage on such a
        column; none; or a list of stage labels (their ``name``), applied in chain order."""
        exp = self.exp
        mode = "efficiencies" if s["response"] == "auto" else s["response"]
        key = f"analysis.sample[{s['name']}].response"
        if isinstance(mode, list):
            labels = [st.label for st in exp.stages]
            for lab in mode:
                if lab not in labels:
                    raise CardError(exp.card.path, key, f"names no response stage '{lab}'",
                                    suggest(lab, labels) or f"stage labels: {', '.join(labels)}")
            picked = [st for st in exp.stages if st.label in mode]
            for st in picked:
                if st.on not in rows.columns:
                    raise CardError(exp.card.path, key, f"stage '{st.label}' acts on '{st.on}', which the "
                                    f"shapes do not give (they give {', '.join(rows.columns)})")
            return picked
        if mode not in ("efficiencies", "all", "none"):
            raise CardError(exp.card.path, key, f"is {mode!r}",
                            "choose auto, all, efficiencies, none or a list of stage names")
        if mode == "none":
            return []
        return [st for st in exp.stages if st.on in rows.columns and
                (mode == "all" or st.family in ("efficiency", "cut"))]

    def _through_response(self, rows: Batch, s: dict, values: dict) -> np.ndarray:
        b = rows
        for st in self._file_stages(rows, s):
            b = st.expect(b, values)
        return self.exp.observables.histogram(b)

    def _file_nuisances(self, rows, s, nominal):
        names = {n.name for n in self._nuisance_list(s)}
        mods, params = [], {}
        for st in self._file_stages(rows, s):
            for nu in st.nuisances():
                if nu.name not in names:
                    continue
                knots = self._knots(nu, s)
                temps = [self._through_response(rows, s, {nu.name: nu.value(t)}) if t != 0 else nominal
                         for t in knots]
                mods.append(Modifier("histosys", nu.name, {"knots": knots.tolist(), "templates": temps}))
                params[nu.name] = _nuisance_cfg(nu, knots)
        return mods, params

    def _parametric(self, s, key):
        exp = self.exp
        p = dict(s["parametric"])
        model = p.pop("model", None)
        if model not in PARAMETRIC:
            raise CardError(exp.card.path, f"{key}.parametric.model", f"is {model!r}",
                            f"choose one of {', '.join(PARAMETRIC)}")
        fn, names = PARAMETRIC[model]
        on = p.pop("on", None)
        if on not in exp.observables or len(exp.observables.names) != 1:
            raise CardError(exp.card.path, f"{key}.parametric.on", f"is {on!r}",
                            "name the (single) observable the shape is a function of")
        ax = exp.observables[on]
        consts, pmap, cfgs = {}, {}, {}
        for k, v in p.items():
            if k in names:
                if not isinstance(v, dict) or "init" not in v:
                    raise CardError(exp.card.path, f"{key}.parametric.{k}", "must be { init = ..., bounds = "
                                    "[lo, hi], name = \"...\" }")
                pname = v.get("name", f"{s['name']}_{k}")
                pmap[k] = pname
                cfgs[pname] = ParameterConfig(pname, float(v["init"]), tuple(v.get("bounds", (None, None))),
                                              fixed=bool(v.get("fixed", False)), doc=f"{model} {k} of {s['name']}")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                consts[k] = float(v)
            else:
                raise CardError(exp.card.path, f"{key}.parametric.{k}", "is not a parameter of "
                                f"{model} ({', '.join(names)}) or a number")
        missing = [n for n in names if n not in pmap]
        if missing:
            raise CardError(exp.card.path, f"{key}.parametric", f"misses parameter(s) {', '.join(missing)}")
        data = {"model": model, "x": ax.centres, "params": pmap, "width": np.diff(ax.edges), **consts}
        try:
            nominal = np.asarray(fn(ax.centres, **{n: cfgs[pmap[n]].init for n in names}, width=np.diff(ax.edges),
                                    **consts), float)
        except TypeError as exc:     # a missing or unknown constant of the shape
            raise CardError(exp.card.path, f"{key}.parametric", f"does not fit model {model}: {exc}",
                            f"see the model's arguments ({fn.__doc__ or ''})".strip()) from None
        return nominal, Modifier("parametric", s["name"], data), cfgs


def _applies(s: dict, point) -> bool:
    """Whether sample ``s`` enters at the command's model point (its ``when`` conditions)."""
    for k, v in s["when"].items():
        if point is None or k not in point or float(point[k]) != float(v):
            return False
    return True


def _scaled_to(samples: list, tables: list, mask, path) -> list:
    """Samples with ``scale_to = { sample, fraction }`` normalised to that fraction of the named sample's events
    in the analysis range."""
    by_name = {smp.name: smp for smp in samples}
    out = []
    for smp in samples:
        tab = next(t for t in tables if t["name"] == smp.name)
        st = tab["scale_to"]
        if not st:
            out.append(smp)
            continue
        key = f"analysis.sample[{smp.name}].scale_to"
        if set(st) != {"sample", "fraction"} or not isinstance(st["fraction"], (int, float)) or st["fraction"] < 0:
            raise CardError(path, key, f"is {st!r}", "give { sample = NAME, fraction = F } with F >= 0")
        ref = by_name.get(st["sample"])
        if ref is None:
            raise CardError(path, f"{key}.sample", f"'{st['sample']}' is not a sample of the measurement",
                            suggest(st["sample"], by_name) or f"samples: {', '.join(by_name)}")
        own = float(np.sum(np.asarray(smp.nominal)[mask]))
        if not own > 0:
            raise CardError(path, key, f"sample '{smp.name}' is empty in the analysis range: cannot normalise it")
        f = float(st["fraction"]) * float(np.sum(np.asarray(ref.nominal)[mask])) / own
        mods = tuple(Modifier(m.type, m.name, {**m.data, "scale": f * m.data.get("scale", 1.0)})
                     if m.type == "parametric" else
                     Modifier(m.type, m.name, {**m.data, "templates": [np.asarray(t) * f for t in m.data["templates"]]})
                     if m.type == "histosys" else m for m in smp.modifiers)
        out.append(Sample(smp.name, np.asarray(smp.nominal) * f, mods, smp.unit_normalised))
    return out


def _nuisance_cfg(nu, knots) -> ParameterConfig:
    lo, hi = (float(knots[0]), float(knots[-1])) if len(knots) > 3 else (-5.0, 5.0)
    return ParameterConfig(nu.name, 0.0, (lo, hi), (0.0, 1.0), doc=nu.doc or f"response nuisance {nu.name}",
                           physical=(nu.nominal, nu.error_hi, nu.error_lo, nu.unit))


def _modifier(md: dict, path, key: str, params: dict) -> Modifier:
    for k in ("up", "down"):
        if md[k] is not None:
            raise CardError(path, f"{key}.{k}", f"is not used by {md['type']}", "histosys takes up/down files")
    if md["type"] == "normfactor":
        params.setdefault(md["name"], ParameterConfig(md["name"], 1.0, (0.0, None), doc="normalisation factor"))
        return Modifier("normfactor", md["name"])
    hi = md["error_hi"] if md["error_hi"] is not None else md["error"]
    lo = md["error_lo"] if md["error_lo"] is not None else md["error"]
    if hi is None or lo is None:
        raise CardError(path, key, "normsys needs error (or error_hi and error_lo)")
    params.setdefault(md["name"], ParameterConfig(md["name"], 0.0, (-1.0 / lo if lo > 0.2 else -5.0, 5.0),
                                                  (0.0, 1.0), doc=f"normalisation +{hi:g}/-{lo:g}",
                                                  physical=(1.0, hi, lo, "")))
    return Modifier("normsys", md["name"], {"hi": hi, "lo": lo})


def _factorised(counts: np.ndarray, s: dict):
    """N x P(axis 1) x P(axis 2) ... of a control sample, its mask (bins whose projections are empty) and a
    normsys of 1/sqrt(N)."""
    n = counts.sum()
    if not n > 0:
        raise NudmsimError(f"sample '{s['name']}': the control data are empty (cannot factorise)")
    nominal = np.full(counts.shape, n)
    mask = np.ones(counts.shape, bool)
    for ax in range(counts.ndim):
        proj = counts.sum(axis=tuple(j for j in range(counts.ndim) if j != ax)) / n
        shape = [1] * counts.ndim
        shape[ax] = -1
        nominal = nominal * proj.reshape(shape)
        mask &= (proj > 0).reshape(shape)
    rel = 1.0 / np.sqrt(n)
    name = f"{s['name']}_norm"
    return (nominal * s["scale"], mask, Modifier("normsys", name, {"hi": rel, "lo": rel}),
            ParameterConfig(name, 0.0, (-1.0 / rel, 5.0), (0.0, 1.0), doc=f"{s['name']} normalisation (sqrt N)",
                            physical=(1.0, rel, rel, "")))


def parse_analysis(table, exp) -> Analysis:
    path = exp.card.path
    v = validate(table, ANALYSIS, path=path, prefix="analysis")
    names = [s["name"] for s in v["sample"]]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise CardError(path, "analysis.sample", f"duplicate sample name(s) {', '.join(sorted(dup))}")
    for s in v["sample"]:
        if s["process"] not in (None, "signal") and s["process"] not in exp.info["processes"]:
            raise CardError(path, f"analysis.sample[{s['name']}].process", f"'{s['process']}' is not among "
                            f"card.processes", f"add it there or use one of {exp.info['processes']}")
    for p in v["signal"]:
        if p not in exp.info["processes"]:
            raise CardError(path, "analysis.signal", f"'{p}' is not among card.processes")
    mask = _range_mask(exp, v["range"], "analysis.range")
    roi = _range_mask(exp, v["roi"], "analysis.roi") if v["roi"] else None
    from .stats.kinds import get_kind

    kind = get_kind(v["likelihood"])
    opts = check_likelihood_options(v, path)
    like = {"kind": kind.name, **(kind.prepare(opts, exp, v) if kind.prepare is not None else {})}
    observed = histogram_from_file(exp, v["data"], "analysis.data") if v["data"] is not None else None
    if observed is None and kind.observed is not None:
        observed = np.asarray(kind.observed(opts, exp, like), float)
    meas = {}
    for k, t in (v["measurement"] or {}).items():
        meas[k] = validate(t, MEASUREMENT, path=path, prefix=f"analysis.measurement.{k}")
        for sname in meas[k]["samples"] or []:
            if sname not in names:
                raise CardError(path, f"analysis.measurement.{k}.samples", f"'{sname}' is not a sample",
                                suggest(sname, names) or f"samples: {', '.join(names)}")
    if not meas:
        meas["default"] = validate({}, MEASUREMENT, path=path, prefix="analysis.measurement.default")
    out = Analysis(exp, v, observed, mask, meas, like, roi)
    for s in v["sample"]:          # parametric shapes are plain tables: check their keys at load, not at fit time
        if s["parametric"] is not None:
            out._parametric(s, f"analysis.sample[{s['name']}]")
    return out


def _range_mask(exp, ranges: dict, key: str) -> np.ndarray:
    """Bins (by centre) inside observable -> [low, high] ranges."""
    path = exp.card.path
    obs = exp.observables
    mask = np.ones(obs.shape, bool)
    for a, rng in ranges.items():
        if a not in obs:
            raise CardError(path, f"{key}.{a}", "is not an observable", suggest(a, obs.names) or "")
        if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng)
                and rng[1] > rng[0]):
            raise CardError(path, f"{key}.{a}", f"must be [low, high] with low < high, got {rng!r}")
        c = obs[a].centres
        sel = (c >= rng[0]) & (c <= rng[1])
        shape = [1] * len(obs.shape)
        shape[obs.names.index(a)] = -1
        mask &= sel.reshape(shape)
    if not mask.any():
        raise CardError(path, key, "selects no bins")
    return mask


__all__ = ["Analysis", "parse_analysis", "ANALYSIS", "SAMPLE", "DATA", "SHAPE", "MEASUREMENT", "histogram_from_file",
           "shapes_rows", "check_likelihood_options"]
