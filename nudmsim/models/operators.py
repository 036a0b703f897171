"""The neutrino-DM operator catalogue of seed 001 (Babu, Dev, Thapa): Table 1 (DM-LEFT and DM-SMEFT operators
by DM type and dimension) with the UV completions of Tables 3-6, loaded from ``data/operators/seed001_table1.toml``,
and the map from an operator coefficient to the couplings of the models nudmsim simulates.

Names: ``O6M1`` = O_{6,M}^1 (DM-LEFT), ``Ot8M1`` = O-tilde_{8,M}^1 (DM-SMEFT), ``...p`` = prime.  Lookups also accept
``O~8,M1``, ``O_{6,M}^1``, ``Otilde_8M1`` and any case; an unknown name is a one-line error with a did-you-mean.

Matching (seed eq. 2 and eqs. 22-24): a SMEFT operator with n Higgs doublets gives the LEFT one with
C_LEFT = C_SMEFT (v/sqrt2)^n, v = 246.2 GeV; Ot6M3 -> O6M3 has the factor 2 of seed eq. 23.

Coefficient -> model couplings (tree level, mediator integrated out; derivations in docs/eft_and_models.md):
* O6M1 = (nu nu)(chi chi), Majorana chi: the seed-000 contact operator chi chi nu nu / Lambda^2, Lambda = |C|^-1/2
  (:mod:`nudmsim.models.contact`).
* O6D1 = (nubar_L gamma nu_L)(chibar_R gamma chi_R), Dirac chi: a scalar phi with L > y phi chibar P_L nu + h.c.
  gives, after integrating out phi and a Fierz rearrangement, C = -y^2/(2 m_phi^2).  Hence
  scalar portal (seed 004, real phi): y_X = sqrt(2|C|) m_phi; neutrino portal (seed 002, light-nu coupling
  y_L |U_l4|): y_L = sqrt(2|C|) m_phi/|U_l4|.
* O6M3 = (nu chi)(nu^c chi^c), Model 1 (seed 001 §4): C = -y^2/2 (1/m_H0^2 + 1/m_A^2) (eq. 25), so
  y_chi = sqrt(2|C| / (1/m_H0^2 + 1/m_A^2)) (:mod:`nudmsim.models.model1`).
Coefficients are magnitudes in MeV^-2 (hepunits); signs and phases are conventions of the UV model.
"""
from __future__ import annotations

import functools
import math
import re
import tomllib
from dataclasses import dataclass, field

from .. import constants as c
from ..errors import NudmsimError, ParameterError
from ..paths import data_file

DM_TYPES = ("majorana", "dirac", "real_scalar", "pseudoscalar", "complex_scalar", "vector")
LEVELS = ("LEFT", "SMEFT")
#: electroweak vev v = (sqrt2 G_F)^-1/2 = 246.2 GeV
V_EW = 1.0 / math.sqrt(math.sqrt(2.0) * c.G_FERMI)
CATALOGUE = ("operators", "seed001_table1.toml")

#: LEFT operator -> {model: description} of the nudmsim models that realise it (see :func:`model_point`)
REALISATIONS = {
    "O6M1": {"contact": "seed 000 chi chi nu nu / Lambda^2 (Majorana chi): Lambda = |C|^-1/2"},
    "O6D1": {"scalar_portal": "seed 004 y_X Xbar phi nu (real phi): y_X = sqrt(2|C|) m_phi",
             "neutrino_portal": "seed 002 y_L phi chibar_R nu (via |U_l4|): y_L = sqrt(2|C|) m_phi/|U_l4|"},
    "O6M3": {"model1": "seed 001 Model 1 (inert doublet): y_chi = sqrt(2|C|/(1/m_H0^2 + 1/m_A^2))"},
}


@dataclass(frozen=True)
class Operator:
    name: str
    level: str
    dm_type: str
    dimension: int
    fields: str
    latex: str
    partners: tuple
    n_higgs: int = 0
    uv: dict = field(default_factory=dict)
    uv_source: str = ""
    uv_note: str = ""

    @property
    def left_partners(self) -> tuple:
        return self.partners if self.level == "SMEFT" else (self.name,)

    def realised_by(self) -> dict:
        """{model: rule} of the nudmsim models realising this operator (through its LEFT partner)."""
        out = {}
        for p in self.left_partners:
            out.update(REALISATIONS.get(p, {}))
        return out

    def summary(self) -> str:
        uv = f"{len(self.uv)} topologies, {sum(len(v) for v in self.uv.values())} mediator sets" if self.uv else \
            (self.uv_note or "-")
        models = ", ".join(self.realised_by()) or "-"
        return (f"{self.name:<7} {self.level:<5} d={self.dimension}  {self.dm_type:<14} {self.fields:<48} "
                f"<-> {','.join(self.partners):<22} UV: {uv}; models: {models}")


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Operator]:
    """All operators of seed 001 Table 1 keyed by name."""
    path = data_file(*CATALOGUE)
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    out = {}
    for row in data["operator"]:
        op = Operator(row["name"], row["level"], row["dm_type"], int(row["dimension"]), row["fields"], row["latex"],
                      tuple(row["partners"]), int(row.get("n_higgs", 0)), dict(row.get("uv", {})),
                      row.get("uv_source", ""), row.get("uv_note", ""))
        if op.level not in LEVELS or op.dm_type not in DM_TYPES:
            raise NudmsimError(f"{path}: operator {op.name} has level {op.level!r} / dm_type {op.dm_type!r}")
        out[op.name] = op
    return out


_ALIAS = re.compile(r"^o(t|tilde|~)?_?\{?(\d)[,]?([a-z])\}?\^?\{?(\d)\}?('|p)?$")


def canonical(name: str) -> str:
    """'O~8,M1', 'O_{6,M}^1', 'ot8m1', 'Otilde_8M1' -> 'Ot8M1' / 'O6M1' (no check that it exists)."""
    s = re.sub(r"[\s\\]", "", str(name)).lower().replace("widetilde", "tilde").replace("prime", "p")
    s = s.replace("{", "").replace("}", "").replace("_", "")
    m = _ALIAS.match(s.replace(",", ""))
    if not m:
        return str(name)
    tilde, dim, kind, idx, prime = m.groups()
    return f"O{'t' if tilde else ''}{dim}{kind.upper()}{idx}{'p' if prime else ''}"


def get(name: str) -> Operator:
    """The operator called ``name`` (aliases accepted); unknown -> one-line error with a did-you-mean."""
    from ..schema import suggest

    cat = catalogue()
    key = canonical(name)
    if key in cat:
        return cat[key]
    hint = suggest(key, cat) or suggest(str(name), cat)
    raise NudmsimError(f"unknown operator '{name}' ({hint + ' ' if hint else ''}see `nudmsim list operators`)")


def select(dm_type: str | None = None, dim: int | None = None, level: str | None = None) -> list[Operator]:
    """Operators filtered by DM type, dimension and level (LEFT/SMEFT); bad filters -> one-line errors."""
    from ..schema import suggest

    if dm_type is not None and dm_type not in DM_TYPES:
        hint = suggest(str(dm_type).lower().replace("-", "_").replace(" ", "_"), DM_TYPES)
        raise NudmsimError(f"unknown DM type '{dm_type}' ({hint + ' ' if hint else ''}choose {', '.join(DM_TYPES)})")
    if level is not None and level.upper() not in LEVELS:
        raise NudmsimError(f"unknown operator level '{level}' (choose LEFT or SMEFT)")
    if dim is not None and (not isinstance(dim, int) or dim < 4 or dim > 9):
        raise NudmsimError(f"operator dimension {dim!r}: Table 1 has dimensions 4-9")
    return [op for op in catalogue().values()
            if (dm_type is None or op.dm_type == dm_type) and (dim is None or op.dimension == dim)
            and (level is None or op.level == level.upper())]


def left_coefficient(name: str, C: float) -> tuple[str, float]:
    """(LEFT operator, its coefficient [MeV^(4-d)]) for a coefficient ``C`` of operator ``name``:
    SMEFT -> LEFT with (v/sqrt2)^n_higgs (seed eqs. 2, 24), x2 for Ot6M3 -> O6M3 (eq. 23); LEFT unchanged."""
    op = get(name)
    if op.level == "LEFT":
        return op.name, float(C)
    if op.n_higgs == 0 and op.name not in ("Ot6M3", "Ot6D1", "Ot6D2", "Ot5P1", "Ot6C1", "Ot4V1"):
        raise NudmsimError(f"{op.name} does not match onto a LEFT operator by inserting Higgs vevs ({op.uv_note})")
    factor = 2.0 if op.name == "Ot6M3" else (V_EW / math.sqrt(2.0)) ** op.n_higgs
    return op.left_partners[0], float(C) * factor


def model_point(name: str, C: float, model: str | None = None, *, m_phi: float | None = None,
                U: float | None = None, m_H0: float | None = None, m_A: float | None = None) -> dict:
    """Couplings of a nudmsim model that reproduce coefficient ``C`` [MeV^-2 for d = 6] of operator ``name``.

    Returns {"model", "operator" (the LEFT operator used), "C_left", and the model's parameters in MeV}.
    ``model`` picks among :attr:`Operator.realised_by` (default: the first)."""
    if not (isinstance(C, (int, float)) and math.isfinite(C)) or C == 0:
        raise ParameterError(f"operator coefficient C = {C!r} must be a finite non-zero number (MeV^-2)")
    left, CL = left_coefficient(name, C)
    options = REALISATIONS.get(left, {})
    if not options:
        raise NudmsimError(f"no nudmsim model realises {left} (from {name}); models exist for "
                           f"{', '.join(REALISATIONS)}")
    model = model or next(iter(options))
    if model not in options:
        raise NudmsimError(f"model '{model}' does not realise {left} (choose {', '.join(options)})")
    a = abs(CL)
    out = {"model": model, "operator": left, "C_left": CL}

    def need(val, what):
        if val is None or not (math.isfinite(val) and val > 0):
            raise ParameterError(f"{model} from {left}: give {what} (> 0)")
        return val

    if model == "contact":
        out["Lambda"] = a ** -0.5
    elif model == "scalar_portal":
        out.update(m_phi=need(m_phi, "m_phi [MeV]"), y_X=math.sqrt(2 * a) * m_phi)
    elif model == "neutrino_portal":
        need(m_phi, "m_phi [MeV]")
        need(U, "|U_l4|")
        out.update(m_phi=m_phi, U=U, y_L=math.sqrt(2 * a) * m_phi / U)
    elif model == "model1":
        need(m_H0, "m_H0 [MeV]")
        inv = 1.0 / m_H0**2 + (1.0 / m_A**2 if m_A else 0.0)
        out.update(m_H0=m_H0, m_A=m_A, y_chi=math.sqrt(2 * a / inv))
    return out


def coefficient_of(model: str, **p) -> tuple[str, float]:
    """Inverse of :func:`model_point`: (LEFT operator, |C| [MeV^-2]) of a model point."""
    if model == "contact":
        return "O6M1", p["Lambda"] ** -2
    if model == "scalar_portal":
        return "O6D1", p["y_X"] ** 2 / (2 * p["m_phi"] ** 2)
    if model == "neutrino_portal":
        return "O6D1", (p["y_L"] * p["U"]) ** 2 / (2 * p["m_phi"] ** 2)
    if model == "model1":
        inv = 1.0 / p["m_H0"] ** 2 + (1.0 / p["m_A"] ** 2 if p.get("m_A") else 0.0)
        return "O6M3", p["y_chi"] ** 2 / 2 * inv
    raise NudmsimError(f"unknown model '{model}' (choose contact, scalar_portal, neutrino_portal, model1)")
