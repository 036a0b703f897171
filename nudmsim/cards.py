"""TOML cards: detector cards in ``detectors/`` and source definitions in ``fluxes/``.

A card is found by name (``coherent_csi_2017`` -> ``detectors/coherent_csi_2017.toml``) or by path.
Every card has a ``[card]`` table (``name``, ``description``, ``kind``); ``kind`` selects the card's
declared schema (:func:`register_card_schema`), and :func:`load` validates the *whole* card against it:

* an unknown table or key is an error naming the file, the dotted key and the nearest valid key;
* a wrong type (a string where a number belongs), NaN, a value out of range or not among its choices
  is an error naming the file and the key;
* a missing optional key takes the default declared in the schema (:attr:`Card.values`), so code never
  supplies its own default and a mistyped key can never silently fall back to one.

The getters (:meth:`Card.get`, :meth:`Card.number`, :meth:`Card.array`) read the validated values and
keep their own checks; they raise :class:`~nudmsim.errors.CardError` naming the file, the key and the fix.

The schemas of the shipped card kinds live in :mod:`nudmsim.card_schemas` (one module per family, listed
in :data:`CARD_SCHEMA_MODULES` and imported on first use, as pyhf lists its modifiers); a new card kind
registers its own (see :func:`register_card_schema`).

Example::

    card = load_detector("borexino")
    mass = card.number("target.mass_kg", positive=True)    # plain float, unit in the key name
    ff = card.get("target.form_factor", str)               # "helm" (validated against its choices on load)
    halo = card.load_card("source.card")                   # the source card, searched next to this card first
"""
from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .errors import CardError, NudmsimError
from .paths import search_dirs
from .schema import Field, Section, dotted_keys, suggest, validate

_MISSING = object()

ROLES = ("detector", "source")
_FOLDER = {"detector": "detectors", "source": "fluxes"}

CARD_SECTION = Section("card", "identifies the card (every card has it)", fields=(
    Field("name", str, doc="what the run metadata and the plots call the card"),
    Field("description", str, doc="one line, shown by `nudmsim list detectors`"),
    Field("kind", str, doc="card kind: selects the schema of the other tables (see the kinds below)"),
))


# ------------------------------------------------------------------------------------------------
# schema registry
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardSchema:
    """The declared tables of one card kind.

    ``fields``: one :class:`~nudmsim.schema.Field` per top-level table (a required :class:`Section`, an
    optional one with ``default=None``, or an array of tables ``[[name]]``); ``role``: "detector" (a card in
    ``detectors/``) or "source" (``fluxes/``); ``check(values, path)``: an optional whole-card hook run
    after every table validated (raise :class:`CardError`), e.g. per-stage validation of ``[[response]]``."""

    kind: str
    role: str
    fields: tuple
    doc: str = ""
    check: Callable[[dict, Path], None] | None = None
    card: Section | None = None

    def section(self) -> Section:
        """The whole card as one Section (``[card]`` first: the kind's own, or the common one)."""
        head = self.card or CARD_SECTION
        return Section("", self.doc, (Field("card", head, doc=head.doc), *self.fields))

    def keys(self) -> dict[str, Field]:
        """Every declared key of the card by dotted name (``source.card``, ``response.quenching.model``)."""
        return dotted_keys(self.section())


CARD_SCHEMAS: dict[str, CardSchema] = {}

#: modules that register card schemas on import (imported on the first card load)
CARD_SCHEMA_MODULES: list[str] = [
    "nudmsim.card_schemas.sources",
    "nudmsim.card_schemas.experiment",
    "nudmsim.card_schemas.collider",
    "nudmsim.card_schemas.cosmology",
    "nudmsim.card_schemas.neutrino_flux",
    "nudmsim.card_schemas.models",
]


def register_card_schema(kind: str, sections: Sequence[Section | Field], *, role: str = "detector",
                         doc: str = "", check: Callable[[dict, Path], None] | None = None,
                         card: Section | None = None) -> CardSchema:
    """Declare the top-level tables of cards of ``kind``.

    ``sections``: a :class:`Section` is a required table of that name; a :class:`Field` declares anything
    else: an optional table (``Field("published", PUBLISHED, default=None)``) or an array of tables
    (``Field("response", list, item=dict, doc=...)``, whose entries are then validated by ``check``).
    ``[card]`` is common to every kind and must not be listed (a kind with more keys in ``[card]`` passes
    its own ``card`` Section, a superset of name, description, kind).  Registering a kind twice with a
    different schema is an error."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    fields = []
    for s in sections:
        if isinstance(s, Section):
            fields.append(Field(s.name, s, doc=s.doc))
        elif isinstance(s, Field):
            fields.append(s)
        else:
            raise TypeError(f"card schema {kind!r}: expected Section or Field, got {type(s).__name__}")
    names = [f.name for f in fields]
    if "card" in names or len(set(names)) != len(names):
        raise ValueError(f"card schema {kind!r}: duplicate table or [card] declared ({names})")
    schema = CardSchema(kind, role, tuple(fields), doc, check, card)
    old = CARD_SCHEMAS.get(kind)
    if old is not None and old != schema:
        raise ValueError(f"card kind {kind!r} registered twice")
    CARD_SCHEMAS[kind] = schema
    return schema


_BUILTIN_LOADED = False


def _load_builtin_schemas() -> None:
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    import importlib

    for mod in CARD_SCHEMA_MODULES:
        importlib.import_module(mod)
    _BUILTIN_LOADED = True


def card_schemas() -> dict[str, CardSchema]:
    """Every registered card kind (the built-in ones imported)."""
    _load_builtin_schemas()
    return dict(CARD_SCHEMAS)


def card_schema(kind: str) -> CardSchema:
    _load_builtin_schemas()
    return CARD_SCHEMAS[kind]


def validate_card(data: dict, path, role: str | None = None) -> dict:
    """Validate a parsed card against its kind's schema; returns the values with defaults filled in."""
    head = data.get("card", _MISSING)
    if head is _MISSING:
        for key in data:
            if suggest(key, ["card"]):
                raise CardError(path, key, "is not a valid key", suggest(key, ["card"]))
        raise CardError(path, "card", "is missing", "start the card with a [card] table: name, description, kind")
    schemas = card_schemas()
    if isinstance(head, dict) and "kind" not in head:
        for key in head:                    # a mistyped kind: say so before any kind-specific [card] key
            if suggest(key, ["kind"]):
                raise CardError(path, f"card.{key}", "is not a valid key", suggest(key, ["kind"]))
    if isinstance(head, dict) and "kind" not in head and all(k in CARD_SECTION.field_map() for k in head):
        raise CardError(path, "card.kind", "is missing", f"add kind = one of {', '.join(sorted(schemas))}")
    if not isinstance(head, dict) or not isinstance(head.get("kind"), str):
        validate(head, CARD_SECTION, path=path, prefix="card")
    kind = head["kind"]
    if kind not in schemas:
        hint = suggest(kind, schemas)
        raise CardError(path, "card.kind", f"is '{kind}', not a known card kind",
                        hint or f"known kinds: {', '.join(sorted(schemas))}")
    schema = schemas[kind]
    if role is not None and schema.role != role:
        raise CardError(path, "card.kind", f"is '{kind}', a {schema.role} card, not a {role} card",
                        f"give a {role} card ({_FOLDER[role]}/)")
    values = validate(data, schema.section(), path=path, prefix="")
    if schema.check is not None:
        schema.check(values, Path(path))
    return values


def validate_stage_tables(values: dict, path, key: str = "response") -> None:
    """Whole-card hook for an array of response-stage tables (``[[response]]``): each table is checked
    against its stage type's schema (:func:`nudmsim.response.stage.stage_schema`) at load, with the error
    naming ``response[i].key``.  Building the stages stays with :func:`~nudmsim.response.stage.build_stage`."""
    from .response import stage as st

    for i, table in enumerate(values.get(key) or ()):
        ctx = st.StageContext(path=path, key=f"{key}[{i}]")
        if not isinstance(table, dict):
            raise ctx.error("", "must be a table ([[response]] with stage = ..., model = ...)")
        for k in ("stage", "model"):
            if not isinstance(table.get(k), str):
                raise ctx.error(k, "is missing" if k not in table else f"must be a string, got {table[k]!r}")
        cls = st.lookup(table["stage"], table["model"], ctx)
        validate(table, st.stage_schema(cls), path=path, prefix=ctx.key)


# ------------------------------------------------------------------------------------------------
# the card
# ------------------------------------------------------------------------------------------------
class Card:
    """A validated card.  ``path`` is the file, ``sha256`` the content hash, ``data`` the parsed TOML,
    ``values`` the validated tables with the schema's defaults filled in (None = not given)."""

    def __init__(self, data: dict, path: Path, text: str, kind: str, values: dict | None = None):
        self.data = data
        self.path = Path(path)
        self.kind = kind                     # role: "detector" or "source"
        self.sha256 = content_hash(text)
        self.text = text
        self.values = values if values is not None else data

    # -- basic access ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.get("card.name", str)

    @property
    def card_kind(self) -> str:
        """The ``card.kind`` (e.g. "coherent", "pi_dar")."""
        return self.get("card.kind", str)

    def error(self, key: str, problem: str, fix: str = "") -> CardError:
        return CardError(self.path, key, problem, fix)

    def has(self, key: str) -> bool:
        """True if ``key`` has a value (given in the card or defaulted by the schema to a non-None value)."""
        return self._lookup(key, _MISSING) is not _MISSING

    def _lookup(self, key: str, default):
        node: Any = self.values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node or node[part] is None:
                return default
            node = node[part]
        return node

    def get(self, key: str, typ=None, default=_MISSING, choices=None):
        """Value at dotted ``key``; checks the type and (optionally) the allowed choices.

        The schema supplies defaults; ``default`` is only used for a key the schema leaves unset (None)."""
        val = self._lookup(key, _MISSING)
        if val is _MISSING:
            if default is not _MISSING:
                return default
            raise self.error(key, "is missing", f"add it to the card; see {_FOLDER.get(self.kind, 'detectors')}/README.md")
        if typ is not None:
            ok = isinstance(val, typ) and not (typ in (int, float) and isinstance(val, bool))
            if typ is float and isinstance(val, int) and not isinstance(val, bool):
                val, ok = float(val), True
            if not ok:
                tname = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
                raise self.error(key, f"must be {tname}, got {type(val).__name__} {val!r}")
        if choices is not None and val not in choices:
            raise self.error(key, f"is {val!r}", f"choose one of {', '.join(map(str, choices))}")
        return val

    def number(self, key: str, default=_MISSING, positive=False, nonnegative=False,
               lo=None, hi=None) -> float:
        """A finite float at ``key`` with optional range checks."""
        val = self.get(key, (int, float), default)
        if val is None:
            return val
        val = float(val)
        if not math.isfinite(val):
            raise self.error(key, f"is {val}", "give a finite number")
        if positive and val <= 0:
            raise self.error(key, f"must be > 0, got {val}")
        if nonnegative and val < 0:
            raise self.error(key, f"must be >= 0, got {val}")
        if lo is not None and val < lo:
            raise self.error(key, f"must be >= {lo}, got {val}")
        if hi is not None and val > hi:
            raise self.error(key, f"must be <= {hi}, got {val}")
        return val

    def array(self, key: str, default=_MISSING, ndim=None, length=None, finite=True,
              increasing=False) -> np.ndarray:
        """A numeric array (TOML list, possibly nested) at ``key``."""
        val = self.get(key, list, default)
        try:
            arr = np.asarray(val, dtype=float)
        except (TypeError, ValueError):
            raise self.error(key, "must be a list of numbers (rows of equal length)") from None
        if ndim is not None and arr.ndim != ndim and not (ndim == 2 and arr.size == 0):
            raise self.error(key, f"must be a {ndim}-d list, got {arr.ndim}-d")
        if length is not None and len(arr) != length:
            raise self.error(key, f"must have {length} entries, got {len(arr)}")
        if finite and not np.all(np.isfinite(arr)):
            raise self.error(key, "contains NaN or inf")
        if increasing and np.any(np.diff(arr) <= 0):
            raise self.error(key, "must be strictly increasing")
        return arr

    def table(self, key: str) -> dict:
        return self.get(key, dict)

    def relative_file(self, key: str) -> Path:
        """A file named in the card: absolute, or relative to the card's folder, ``data/`` or ``fluxes/``."""
        return self.resolve(self.get(key, str), key)

    def resolve(self, name: str, key: str = "") -> Path:
        """The file ``name`` (named at ``key``): absolute, or relative to the card's folder, ``data/``, ``fluxes/``."""
        from .paths import resource_dir

        for base in (self.path.parent, resource_dir("data"), resource_dir("fluxes")):
            p = base / name
            if p.is_file():
                return p
        raise self.error(key, f"names file '{name}', which does not exist",
                         "give a path relative to the card, to data/ or to fluxes/")

    def read_table(self, key: str, **checks) -> dict[str, np.ndarray]:
        """Columns of the CSV table named at ``key`` (see :meth:`relative_file`), validated on read
        (``columns``, ``nonnegative``, ``increasing``: see :func:`nudmsim.response.tables.read_table`);
        a bad table is a CardError naming this card, the key, and the table's file, line and column."""
        from .response.tables import read_csv_table

        return self.read_file(key, lambda path: read_csv_table(path, **checks))

    def read_file(self, key: str, reader: Callable[[Path], Any]):
        """``reader(path)`` of the file named at ``key``; its NudmsimError becomes a CardError naming this
        card and the key as well as the file's own problem (line, column)."""
        path = self.relative_file(key)
        try:
            return reader(path)
        except CardError:
            raise
        except NudmsimError as exc:
            raise self.error(key, str(exc)) from None

    def find_card(self, key: str, role: str = "source") -> Path:
        """The card named at ``key`` (a name or a path): searched in this card's folder first, then
        ``$NUDMSIM_CARD_PATH``, then ``fluxes/`` (``detectors/`` for a detector card)."""
        name = self.get(key, str)
        try:
            return find(name, role, near=self.path.parent)
        except NudmsimError as exc:
            raise self.error(key, f"names {role} card '{name}', which was not found",
                             _find_hint(str(exc))) from None

    def load_card(self, key: str, role: str = "source") -> "Card":
        """Load (and validate) the card named at ``key`` (see :meth:`find_card`)."""
        return load(self.find_card(key, role), role)

    def __repr__(self) -> str:
        return f"<{self.kind} card {self.path.name} sha256={self.sha256[:12]}>"


def _find_hint(message: str) -> str:
    return message.split("(", 1)[1].rstrip(")") if "(" in message else message


def find(name_or_path: str, role: str = "detector", near: Path | None = None) -> Path:
    """The file of a card: a path (``*.toml``, or an existing file), else ``NAME.toml`` searched in ``near``
    (the folder of the card that names it), ``$NUDMSIM_CARD_PATH`` and ``detectors/`` or ``fluxes/``."""
    folder = _FOLDER.get(role, "detectors")
    text = str(name_or_path)
    p = Path(text)
    looks_like_path = p.suffix == ".toml" or "/" in text or p.is_file()
    if looks_like_path:
        cands = [p] if p.is_absolute() or near is None else [Path(near) / p, p]
        for cand in cands:
            if cand.is_dir():
                raise NudmsimError(f"{role} card '{cand}' is a directory, not a .toml file "
                                   f"(give the card file inside it)")
            if cand.is_file():
                return cand
            if cand.exists():
                raise NudmsimError(f"{role} card '{cand}' is not a regular file")
        raise NudmsimError(f"{role} card file '{p}' does not exist")
    dirs = ([Path(near)] if near is not None else []) + search_dirs(folder)
    for d in dirs:
        cand = d / f"{text}.toml"
        if cand.is_file():
            return cand
    if p.is_dir():
        raise NudmsimError(f"{role} card '{p}' is a directory, not a .toml file (give the card file inside it)")
    known = available(role)
    hint = suggest(text, known)
    raise NudmsimError(f"unknown {role} '{text}' ({hint + '; ' if hint else ''}known: {', '.join(known) or 'none'}; "
                       f"or give a path to a .toml card)")


def _find(name_or_path: str, kind: str) -> Path:  # kept for callers of the old private name
    return find(name_or_path, kind)


def available(kind: str = "detector") -> list[str]:
    folder = _FOLDER.get(kind, "detectors")
    names: set[str] = set()
    for d in search_dirs(folder):
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def read_text(path: Path) -> str:
    """The card's text; a file that is not UTF-8 or cannot be read is a one-line CardError."""
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise NudmsimError(f"card '{path}' is a directory, not a .toml file") from None
    except OSError as exc:
        raise CardError(path, "", f"cannot be read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise CardError(path, "", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line})",
                        "save the card as UTF-8") from None


def content_hash(text: str) -> str:
    """sha256 (hex) of a card's text: its identity in caches and provenance."""
    return hashlib.sha256(text.encode()).hexdigest()


def load(name_or_path, kind: str = "detector") -> Card:
    """Load, parse and validate a card (``kind`` = "detector" or "source": where a bare name is looked up).

    Raises CardError for a malformed file (with the TOML error's line) or a card that breaks its schema."""
    path = find(str(name_or_path), kind)
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(path, "", f"is not valid TOML: {exc}", "fix the syntax at that line") from None
    values = validate_card(data, path, kind)
    return Card(data, path, text, kind, values)


def load_detector(name_or_path: str) -> Card:
    """Detector card by name (``detectors/NAME.toml``) or path."""
    return load(name_or_path, "detector")


def load_source(name_or_path: str) -> Card:
    """Source card by name (``fluxes/NAME.toml``) or path."""
    return load(name_or_path, "source")


__all__ = ["Card", "CardSchema", "CARD_SECTION", "CARD_SCHEMAS", "CARD_SCHEMA_MODULES", "register_card_schema",
           "card_schema", "card_schemas", "validate_card", "validate_stage_tables", "find", "available", "load",
           "load_detector", "load_source", "read_text", "content_hash"]
