"""Energy stages: quenching (nuclear recoil keVnr -> electron-equivalent keVee) and yields (keVee -> mean count).

Registered types (family / model), each documented in its ``doc`` and in docs/response_stages.md:

* quenching / constant, table, polynomial_eee, polynomial_qf, lindhard, birks
* yield / linear

Every quenching model maps the column ``on`` (a recoil energy, default ``E_R_keV``) to ``to`` (default
``E_ee_keV``); both names must end in an energy unit.  The electron-equivalent energy is clipped at 0
(a polynomial outside its fitted range can go negative; 0 keVee then gives no light).  The stages are
deterministic, so ``sample`` and ``expect`` are the same function.  Conventions shared by all stages
(column units, nuisance names, variants, tables) are in :mod:`nudmsim.response.stagekit`.
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange

from .. import constants as c
from ..errors import NudmsimError
from ..schema import Field, Section
from . import birks as _birks
from .kernelkit import dual_kernel
from .stage import Batch, register_stage
from .stagekit import (
    ENERGY_UNITS,
    StageBase,
    VectorVariants,
    check_xy,
    energy_scale,
    increasing_pair,
    interpolate,
    on_field,
    pick_column,
    read_columns,
    to_field,
)

_E_UNITS = tuple(ENERGY_UNITS)


# ------------------------------------------------------------------------------------------------
# kernels (one formula each, used by sample and expect)
# ------------------------------------------------------------------------------------------------
@dual_kernel
def _poly_kernel(e_keV, to_u, coef, p0, is_qf, lo_u, hi_u, rule, out):
    """E_ee [keV] from E_nr [keV]: x = E_nr * to_u (x in the polynomial's unit u, to_u = keV/u);
    P(x) = x^p0 sum_k coef[k] x^k is E_ee in u (is_qf = 0) or the QF (is_qf = 1).
    Outside [lo_u, hi_u]: rule 0 extrapolate, 1 hold the QF of the nearest end, 2 zero."""
    nc = coef.shape[0]
    for i in prange(e_keV.shape[0]):
        e = e_keV[i]
        x = e * to_u
        xe = x
        if rule > 0 and (x < lo_u or x > hi_u):
            if rule == 2:
                out[i] = 0.0
                continue
            xe = lo_u if x < lo_u else hi_u
        v = 0.0
        for k in range(nc - 1, -1, -1):
            v = v * xe + coef[k]
        if p0 != 0:
            v *= xe ** p0
        if is_qf:
            ee = v * e
        elif xe == x:
            ee = v / to_u                      # E_ee in u -> keV
        elif xe > 0.0:
            ee = (v / xe) * e                  # clamp: the QF E_ee/E_nr of the nearest end
        else:
            ee = 0.0
        out[i] = ee if ee > 0.0 else 0.0


@dual_kernel
def _lindhard_kernel(e_keV, species, z73, k, out):
    """Lindhard QF * E_nr: eps = 11.5 E[keV] Z^-7/3 (z73 = Z^-7/3 per species), g = 3 eps^0.15 + 0.7 eps^0.6
    + eps, QF = k g / (1 + k g)."""
    for i in prange(e_keV.shape[0]):
        s = species[i]
        e = e_keV[i]
        if not e > 0.0:
            out[i] = 0.0
            continue
        eps = 11.5 * e * z73[s]
        le = math.log(eps)
        g = 3.0 * math.exp(0.15 * le) + 0.7 * math.exp(0.6 * le) + eps
        kg = k[s] * g
        out[i] = e * kg / (1.0 + kg)


def lindhard_qf(E_R_keV, Z, A=None, k=None):
    """Lindhard quenching factor (numpy; the stage uses the same formula in a kernel).

    k defaults to the standard 0.133 Z^(2/3) A^(-1/2)."""
    if k is None:
        k = 0.133 * Z ** (2.0 / 3.0) / math.sqrt(A)
    e = np.asarray(E_R_keV, dtype=float)
    eps = 11.5 * e * Z ** (-7.0 / 3.0)
    g = 3.0 * eps**0.15 + 0.7 * eps**0.6 + eps
    return k * g / (1.0 + k * g)


# ------------------------------------------------------------------------------------------------
# quenching
# ------------------------------------------------------------------------------------------------
class _Quenching(StageBase):
    family = "quenching"
    default_label = "qf"

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.in_keV = energy_scale(self, self.on, "on")          # column -> keV
        self.out_per_keV = 1.0 / energy_scale(self, self.to, "to")  # keV -> output column

    def e_ee_keV(self, e_nr_keV: np.ndarray, batch: Batch, values) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _apply(self, batch: Batch, values) -> Batch:
        e = self.column(batch, self.on)
        if self.in_keV != 1.0:
            e = e * self.in_keV
        ee = self.e_ee_keV(e, batch, values)
        if self.out_per_keV != 1.0:
            ee = ee * self.out_per_keV
        return batch.with_columns(**{self.to: ee})

    def sample(self, batch, rng=None, values=None):
        return self._apply(batch, values)

    def expect(self, batch, values=None):
        return self._apply(batch, values)


_ON_NR = on_field("E_R_keV", "recoil-energy column (keVnr; any energy unit in its name)")
_TO_EE = to_field("E_ee_keV", "electron-equivalent energy column (keVee; any energy unit in its name)")
_RULES = ("extrapolate", "clamp", "zero", "error")


@register_stage
class ConstantQuenching(_Quenching):
    model = "constant"
    doc = ("E_ee = QF · E_nr with a constant quenching factor QF (dimensionless; e.g. COHERENT 2017 CsI[Na]: "
           "0.0878 ± 0.0166, arXiv:1804.09459).  `error` makes QF the nuisance `<label>` (default `qf`).")
    schema = Section("quenching/constant", fields=(
        _ON_NR, _TO_EE,
        Field("value", float, lo=0.0, hi=1.0, lo_open=True, doc="quenching factor QF (dimensionless)"),
        Field("error", float, default=0.0, lo=0.0, doc="1σ error of QF (> 0 makes it a nuisance)"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.qf = values["value"]
        if values["error"] > 0:
            self.add_nuisance(None, self.qf, values["error"], doc="quenching factor", bounds=(0.0, 1.0))

    def e_ee_keV(self, e, batch, values):
        return np.maximum(self.value(values, None, self.qf), 0.0) * e


@register_stage
class TableQuenching(_Quenching):
    model = "table"
    doc = ("QF(E_nr) (or E_ee(E_nr), `quantity = \"e_ee\"`) linearly interpolated in a table, from a file "
           "(`file`, columns `x_column`, `column`) or inline (`x`, `values`); x (and E_ee) in `unit`.  "
           "Outside the table `out_of_range` decides: clamp = QF held at the nearest end, zero = no light, "
           "error = refuse the event.  `values_up`/`values_down` (or `column_up`/`column_down`) are ±1σ "
           "alternative tables: the shape nuisance `<label>_shape` interpolates between them.")
    schema = Section("quenching/table", fields=(
        _ON_NR, _TO_EE,
        Field("file", str, default=None, doc="CSV table (data/ layout: # header block, then named columns)"),
        Field("x_column", str, default="Enr_keV", doc="column of recoil energies in the file"),
        Field("column", str, default="QF", doc="column of QF (or E_ee) in the file"),
        Field("column_up", str, default=None, doc="optional +1σ column"),
        Field("column_down", str, default=None, doc="optional -1σ column"),
        Field("x", list, default=None, doc="inline recoil energies (in unit)"),
        Field("values", list, default=None, doc="inline QF (or E_ee in unit)"),
        Field("values_up", list, default=None, doc="inline +1σ values"),
        Field("values_down", list, default=None, doc="inline -1σ values"),
        Field("quantity", str, default="qf", choices=("qf", "e_ee"), doc="what the table holds"),
        Field("unit", str, default="keV", choices=_E_UNITS, doc="unit of x (and of E_ee)"),
        Field("out_of_range", str, choices=("clamp", "zero", "error"),
              doc="outside the table: clamp = QF of the nearest end, zero = 0 keVee, error = refuse"),
    ), one_of=(("file", "x"),))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.rule = values["out_of_range"]
        self.is_qf = values["quantity"] == "qf"
        self.u_keV = ENERGY_UNITS[values["unit"]] / c.keV   # table unit in keV
        if values["file"]:
            path, header, arr = read_columns(ctx, "file", values["file"])
            x = pick_column(ctx, "file", path, header, arr, values["x_column"], "x_column")
            y = pick_column(ctx, "file", path, header, arr, values["column"], "column")
            up = down = None
            for k in ("values", "values_up", "values_down"):
                if values[k] is not None:
                    raise ctx.error(k, "is given together with file", "use column/column_up/column_down with a file")
            if values["column_up"] or values["column_down"]:
                if not (values["column_up"] and values["column_down"]):
                    raise ctx.error("column_up", "needs column_down too", "give both ±1σ columns")
                up = pick_column(ctx, "file", path, header, arr, values["column_up"], "column_up")
                down = pick_column(ctx, "file", path, header, arr, values["column_down"], "column_down")
            where = "file"
        else:
            if values["values"] is None:
                raise ctx.error("values", "is missing", "give values = [...] with x = [...]")
            x, y = values["x"], values["values"]
            up, down = values["values_up"], values["values_down"]
            if (up is None) != (down is None):
                raise ctx.error("values_up" if up is None else "values_down", "is missing",
                                "give both values_up and values_down")
            where = "values"
        self.x, y = check_xy(ctx, where, x, y, lo=0.0, what="QF" if self.is_qf else "E_ee")
        if self.is_qf and np.any(y > 1):
            raise ctx.error(where, f"QF above 1 ({y.max():g})", "a quenching factor is <= 1; is it an E_ee table?")
        ups = [] if up is None else [np.asarray(check_xy(ctx, where, x, up, lo=0.0)[1])]
        downs = [] if down is None else [np.asarray(check_xy(ctx, where, x, down, lo=0.0)[1])]
        self.y = VectorVariants(self, y, [list(v) for v in ups], [list(v) for v in downs],
                                "values_up" if where == "values" else "column_up",
                                "values_down" if where == "values" else "column_down")

    def e_ee_keV(self, e, batch, values):
        xu = e / self.u_keV
        y = self.y.resolve(values)
        if self.rule == "clamp":
            xc = np.clip(xu, self.x[0], self.x[-1])
            v = np.interp(xc, self.x, y)
            qf = v if self.is_qf else np.divide(v, xc, out=np.zeros_like(v), where=xc > 0)
            return np.maximum(qf * e, 0.0)
        v = interpolate(self, xu, self.x, y, self.rule)
        ee = v * e if self.is_qf else v * self.u_keV
        return np.maximum(ee, 0.0)


class _Polynomial(_Quenching):
    is_qf = 0
    default_p0 = 1

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        if not values["coefficients"] or isinstance(values["coefficients"][0], list):
            raise ctx.error("coefficients", "must be a non-empty list of numbers")
        self.coef = VectorVariants(self, values["coefficients"], values["coefficients_up"],
                                   values["coefficients_down"], "coefficients_up", "coefficients_down")
        self.p0 = int(values["first_power"])
        self.to_u = c.keV / ENERGY_UNITS[values["unit"]]
        rng, rule = values["range"], values["out_of_range"]
        if rng is None and rule not in ("extrapolate",):
            raise ctx.error("out_of_range", f"is \"{rule}\" but no range is given", "give range = [lo, hi]")
        self.range = (float(rng[0]), float(rng[1])) if rng else (-np.inf, np.inf)
        self.rule = rule

    def e_ee_keV(self, e, batch, values):
        coef = self.coef.resolve(values)
        lo, hi = self.range
        if self.rule == "error":
            xu = e * self.to_u
            bad = (xu < lo) | (xu > hi)
            if np.any(bad):
                raise NudmsimError(f"{self.ctx.path}: key '{self.ctx.key}.out_of_range': an event has {self.on} = "
                                   f"{e[bad][0]:g} keV, outside range [{lo:g}, {hi:g}] and out_of_range = \"error\" "
                                   "(widen range or choose clamp/zero/extrapolate)")
        rule = {"extrapolate": 0, "error": 0, "clamp": 1, "zero": 2}[self.rule]
        out = np.empty_like(e)
        _poly_kernel(len(e), np.ascontiguousarray(e), self.to_u, coef, self.p0, self.is_qf, lo, hi, rule, out)
        return out


def _poly_fields(first_power_default: int, what: str):
    return (
        _ON_NR, _TO_EE,
        Field("coefficients", list, doc=f"c_0, c_1, ... of {what}"),
        Field("unit", str, default="keV", choices=_E_UNITS, doc="unit of x (and of E_ee) in the polynomial"),
        Field("first_power", int, default=first_power_default, lo=0, doc="power p0 of x multiplying c_0"),
        Field("coefficients_up", list, default=None, doc="+1σ coefficient set (or a list of sets)"),
        Field("coefficients_down", list, default=None, doc="-1σ coefficient set (or a list of sets)"),
        Field("range", list, default=None, check=increasing_pair,
              doc="[lo, hi] of x (in unit) where the polynomial holds"),
        Field("out_of_range", str, default="extrapolate", choices=_RULES,
              doc="outside range: extrapolate, clamp (QF of the nearest end), zero, error"),
    )


@register_stage
class PolynomialEeeQuenching(_Polynomial):
    model = "polynomial_eee"
    is_qf = 0
    doc = ("E_ee(E_nr) = Σ_k c_k x^(k+p0), x = E_nr in `unit` and E_ee in the same unit, p0 = `first_power` "
           "(default 1).  COHERENT 2021 CsI[Na] (arXiv:2110.07730 release): c = [0.0554628, 4.30681, -111.707, "
           "840.384], unit = MeV.  `coefficients_up`/`coefficients_down` (one set or a list of sets) are ±1σ "
           "alternatives, each pair a shape nuisance `<label>_shape` (`_shape0`, `_shape1`, ...).  Optional "
           "`range` with `out_of_range` (clamp holds the QF = E_ee/E_nr of the nearest end).")
    schema = Section("quenching/polynomial_eee", fields=_poly_fields(1, "E_ee(x)"))


@register_stage
class PolynomialQfQuenching(_Polynomial):
    model = "polynomial_qf"
    is_qf = 1
    doc = ("QF(E_nr) = Σ_k q_k x^(k+p0), x = E_nr in `unit`, p0 = `first_power` (default 0); E_ee = QF · E_nr.  "
           "Variants and range as polynomial_eee (clamp holds the QF at the range end, as "
           "response/quenching.PolynomialQuenching does for the fitted COHERENT 2017 QF).")
    schema = Section("quenching/polynomial_qf", fields=_poly_fields(0, "QF(x)"))


@register_stage
class LindhardQuenching(_Quenching):
    model = "lindhard"
    doc = ("Lindhard theory (J. Lindhard, V. Nielsen, M. Scharff, P.V. Thomsen, Mat. Fys. Medd. Dan. Vid. Selsk. "
           "33 no. 10 (1963)) in the usual parametrisation (J.D. Lewin, P.F. Smith, Astropart. Phys. 6 (1996) 87): "
           "QF = k g(ε) / (1 + k g(ε)), g = 3 ε^0.15 + 0.7 ε^0.6 + ε, ε = 11.5 (E_nr/keV) Z^(-7/3), with "
           "k = 0.133 Z^(2/3) A^(-1/2) unless `k` is given (e.g. 0.157 for Ge).  Z and A from `Z`/`A`, or from the "
           "experiment's target (one row per isotope through the `species_column`, default `target_id`, when it "
           "has several).  `k_error` (with `k`) makes k the nuisance `<label>_k`.")
    schema = Section("quenching/lindhard", fields=(
        _ON_NR, _TO_EE,
        Field("k", float, default=None, lo=0.0, lo_open=True, doc="Lindhard k (default 0.133 Z^(2/3) A^(-1/2))"),
        Field("k_error", float, default=0.0, lo=0.0, doc="1σ error of k (needs k)"),
        Field("Z", int, default=None, lo=1, doc="atomic number of the recoiling nucleus (default: the target)"),
        Field("A", float, default=None, lo=1.0, doc="mass number (default: the target)"),
        Field("species_column", str, default="target_id",
              doc="column holding the index of the recoiling isotope in the target (several isotopes)"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.k_given = values["k"]
        if values["k_error"] > 0 and self.k_given is None:
            raise ctx.error("k_error", "needs k", "give k explicitly to give its error")
        if (values["Z"] is None) != (values["A"] is None):
            raise ctx.error("A" if values["A"] is None else "Z", "is missing", "give both Z and A, or neither")
        if values["Z"] is not None:
            species = [(values["Z"], values["A"], 1.0)]
        else:
            nuclei = _target_nuclei(ctx.target)
            if not nuclei:
                raise ctx.error("Z", "is missing and the experiment has no target to take it from",
                                "give Z and A of the recoiling nucleus")
            species = [(int(n.Z), float(n.A), float(getattr(n, "abundance", 1.0))) for n in nuclei]
        self.Z = np.array([s[0] for s in species], dtype=float)
        self.A = np.array([s[1] for s in species], dtype=float)
        ab = np.array([s[2] for s in species], dtype=float)
        self.abundance = ab / ab.sum()
        self.species_column = values["species_column"]
        if self.k_given is not None and values["k_error"] > 0:
            self.add_nuisance("k", self.k_given, values["k_error"], doc="Lindhard k", bounds=(0.0, None))

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.on, self.species_column)

    def k_values(self, values) -> np.ndarray:
        if self.k_given is None:
            return 0.133 * self.Z ** (2.0 / 3.0) / np.sqrt(self.A)
        return np.full(len(self.Z), self.value(values, "k", self.k_given))

    def e_ee_keV(self, e, batch, values):
        k = self.k_values(values)
        Z = self.Z
        if len(Z) == 1:
            species = np.zeros(len(e), dtype=np.int64)
        elif self.species_column in batch:
            species = np.asarray(batch[self.species_column]).astype(np.int64)
            if len(species) and (species.min() < 0 or species.max() >= len(Z)):
                raise NudmsimError(f"{self.ctx.path}: key '{self.ctx.key}.species_column': column "
                                   f"'{self.species_column}' has an index outside the target's {len(Z)} isotopes")
        elif np.all(Z == Z[0]):   # isotopes of one element: the abundance-weighted k
            k = np.array([float(np.sum(self.abundance * k))])
            Z = Z[:1]
            species = np.zeros(len(e), dtype=np.int64)
        else:
            raise self.error("species_column", f"the target has several elements but the events have no column "
                             f"'{self.species_column}'", "give Z and A, or name the isotope-index column")
        out = np.empty_like(e)
        _lindhard_kernel(len(e), np.ascontiguousarray(e), species, Z ** (-7.0 / 3.0), k, out)
        return out


def _target_nuclei(target):
    """The isotopes of an experiment target (duck-typed: ``.nuclei``, ``.isotopes`` or a sequence)."""
    if target is None:
        return None
    for attr in ("nuclei", "isotopes"):
        if hasattr(target, attr):
            return list(getattr(target, attr))
    if hasattr(target, "Z") and hasattr(target, "A"):
        return [target]
    try:
        return list(target)
    except TypeError:
        return None


def _composition_check(value) -> str | None:
    from .. import targets

    for sym, n in value.items():
        try:
            Z = targets.element(sym)[0].Z
        except NudmsimError as exc:
            return str(exc)
        if Z not in _birks._ICRU49:
            return f"no ICRU-49 proton stopping coefficients for {sym} in nudmsim (have Z = {sorted(_birks._ICRU49)})"
        if not isinstance(n, (int, float)) or isinstance(n, bool) or not n > 0:
            return f"{sym} = {n!r}: give a positive number of atoms per molecule"
    return None if value else "is empty"


@register_stage
class BirksQuenching(_Quenching):
    model = "birks"
    doc = ("Birks' law for an ion stopping in an organic scintillator: E_vis(T) = ∫_0^T dE [S_e/(S_e+S_n)] / "
           "(1 + kB S_e) (keVee for T in keV), S_e the ICRU-49 electronic stopping power (Bragg additivity over "
           "`composition`, density `density_g_cm3`), S_n the ZBL nuclear stopping; heavy ions by velocity scaling "
           "with the Northcliffe effective charge (response/birks.py).  kB in cm/MeV; `kB_error_cm_per_MeV` "
           "makes kB the nuisance `<label>_kB`.  The recoiling species is named (`recoil = \"p\"` or an isotope "
           "such as \"C12\"), or `recoil = \"target\"`: each row's ion is the target isotope indexed by "
           "`species_column` (default `target_id`), e.g. the protons and carbon nuclei of C9H12.")
    schema = Section("quenching/birks", fields=(
        _ON_NR, _TO_EE,
        Field("kB_cm_per_MeV", float, lo=0.0, unit="cm/MeV", doc="Birks constant kB"),
        Field("kB_error_cm_per_MeV", float, default=0.0, lo=0.0, unit="cm/MeV", doc="1σ error of kB"),
        Field("composition", dict, check=_composition_check,
              doc="atoms per molecule by element, e.g. {C = 9, H = 12} (pseudocumene)"),
        Field("density_g_cm3", float, lo=0.0, lo_open=True, unit="g/cm^3", doc="scintillator density"),
        Field("recoil", str, default="p", doc="recoiling ion: \"p\" (proton), an isotope, e.g. \"C12\", or "
                                              "\"target\" (per row: the target isotope in species_column)"),
        Field("species_column", str, default="target_id",
              doc="recoil = \"target\": column holding the index of the recoiling isotope in the target"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        from .. import targets

        super().__init__(values, ctx)
        self.composition = tuple(sorted((targets.element(s)[0].Z, int(n)) for s, n in values["composition"].items()))
        self.density = values["density_g_cm3"]
        rec = values["recoil"]
        self.species_column = values["species_column"]
        self.ions = None                      # recoil = "target": (Z, mass in keV) per target isotope
        if rec in ("p", "proton"):
            self.Z_ion, self.mass_keV = 1, c.M_PROTON / c.keV
        elif rec == "target":
            nuclei = _target_nuclei(ctx.target)
            if not nuclei:
                raise ctx.error("recoil", "is \"target\" but the experiment has no target",
                                "name the ion: \"p\" or an isotope such as \"C12\"")
            self.ions = tuple((int(n.Z), float(n.mass) / c.keV) for n in nuclei)
            self.Z_ion, self.mass_keV = self.ions[0]
        else:
            try:
                nuc = targets.isotope(rec)
            except NudmsimError as exc:
                raise ctx.error("recoil", str(exc), "write \"p\" or an isotope such as \"C12\"") from None
            self.Z_ion, self.mass_keV = nuc.Z, nuc.mass / c.keV
        self.kB = values["kB_cm_per_MeV"]
        if values["kB_error_cm_per_MeV"] > 0:
            self.add_nuisance("kB", self.kB, values["kB_error_cm_per_MeV"], unit="cm/MeV", doc="Birks kB",
                              bounds=(0.0, None))
        for ion in self.ions or ((self.Z_ion, self.mass_keV),):
            self.table(None, ion)   # build (and cache) the nominal tables now: errors show at load

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.on, self.species_column) if self.ions is not None else (self.on,)

    def table(self, values, ion=None) -> _birks.BirksQuenching:
        kB = self.value(values, "kB", self.kB)
        if not (math.isfinite(kB) and kB >= 0):
            raise NudmsimError(f"{self.ctx.path}: key '{self.ctx.key}': Birks kB = {kB} cm/MeV (must be >= 0)")
        Z, m = ion if ion is not None else (self.Z_ion, self.mass_keV)
        return _birks.cached_quenching(kB, self.composition, self.density, Z, m)

    def e_ee_keV(self, e, batch, values):
        if self.ions is None:
            return self.table(values).visible(e)
        if self.species_column not in batch:
            raise self.error("species_column", f"the rows have no column '{self.species_column}'",
                             "name the isotope-index column of the truth rows")
        sp = np.asarray(batch[self.species_column]).astype(np.int64)
        if len(sp) and (sp.min() < 0 or sp.max() >= len(self.ions)):
            raise NudmsimError(f"{self.ctx.path}: key '{self.ctx.key}.species_column': column "
                               f"'{self.species_column}' has an index outside the target's {len(self.ions)} isotopes")
        out = np.zeros_like(e)
        for i in np.unique(sp):
            sel = sp == i
            out[sel] = self.table(values, self.ions[i]).visible(e[sel])
        return out


# ------------------------------------------------------------------------------------------------
# yields
# ------------------------------------------------------------------------------------------------
@register_stage
class LinearYield(StageBase):
    family = "yield"
    model = "linear"
    default_label = "yield"
    doc = ("Mean count μ = Y · E (e.g. photoelectrons: COHERENT 2017 CsI[Na] Y = 13.348 ± 0.019 PE/keVee, "
           "arXiv:1804.09459), Y in counts per `unit` of the input energy (default per keV).  `error` makes Y "
           "the nuisance `<label>` (default `yield`).  Follow it with resolution/poisson for the counting "
           "statistics.")
    schema = Section("yield/linear", fields=(
        on_field("E_ee_keV", "energy column (its unit in its name, e.g. E_ee_keV)"),
        to_field("pe_mean", "mean-count column"),
        Field("value", float, lo=0.0, lo_open=True, doc="yield Y in counts per unit (e.g. PE per keVee)"),
        Field("error", float, default=0.0, lo=0.0, doc="1σ error of Y"),
        Field("unit", str, default="keV", choices=_E_UNITS, doc="the energy unit Y is quoted per"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.Y = values["value"]
        self.scale = energy_scale(self, self.on, "on") * c.keV / ENERGY_UNITS[values["unit"]]
        if values["error"] > 0:
            self.add_nuisance(None, self.Y, values["error"], unit=f"per {values['unit']}", doc="yield",
                              bounds=(0.0, None))

    def _apply(self, batch, values):
        y = self.value(values, None, self.Y) * self.scale
        return batch.with_columns(**{self.to: y * self.column(batch, self.on)})

    def sample(self, batch, rng=None, values=None):
        return self._apply(batch, values)

    def expect(self, batch, values=None):
        return self._apply(batch, values)


__all__ = ["ConstantQuenching", "TableQuenching", "PolynomialEeeQuenching", "PolynomialQfQuenching",
           "LindhardQuenching", "BirksQuenching", "LinearYield", "lindhard_qf"]
