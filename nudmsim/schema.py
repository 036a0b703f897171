"""Declared schemas for card sections: strict keys, types, ranges and defaults in one place.

In the spirit of pyhf's JSON schemas (``additionalProperties: false``), every card section is declared
once as a :class:`Section` of :class:`Field` s.  :func:`validate` checks a parsed TOML table against it:

* an unknown key is an error that names the file, the dotted key and the nearest valid key
  ("did you mean 'protons_on_target'?");
* a missing required key, a wrong type (a string where a number belongs), a value outside its range
  or not among its choices is an error naming the file and the key;
* defaults live in the schema (never in the code that reads the value), so a missing optional key
  takes a documented value and a mistyped one can never silently fall back to it.

The same declarations generate the card reference (:func:`reference_markdown`, used by ``docs/cards.md``).

Example::

    SOURCE = Section("source", "where the particles come from", fields=[
        Field("card", str, doc="source card in fluxes/ (or next to this card)"),
        Field("protons_on_target", float, unit="", lo=0, lo_open=True, default=None,
              doc="protons on target of the exposure"),
    ])
    values = validate(card_table["source"], SOURCE, path="detectors/x.toml", prefix="source")
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .errors import CardError

REQUIRED = object()
"""Marker default: the key must be present."""


@dataclass(frozen=True)
class Field:
    """One key of a section.

    ``type``: ``float`` (ints accepted), ``int``, ``str``, ``bool``, ``list`` (of numbers unless
    ``item`` says otherwise), ``dict`` (a free sub-table, validated by ``check``), or a nested
    :class:`Section` (a sub-table with its own keys), or a ``list`` of :class:`Section` (``item``).
    ``unit``: printed in errors and in the docs (the value is a plain number in that unit).
    ``lo``/``hi``: inclusive bounds unless ``lo_open``/``hi_open``.  ``choices``: allowed values.
    ``check(value) -> str | None``: an extra check returning a problem description (or None).
    ``ndim``: for a ``list``, the nesting depth (1 = a flat list, 2 = a list of rows); ``length`` counts
    the outer entries.
    """

    name: str
    type: Any
    doc: str = ""
    unit: str = ""
    default: Any = REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: Sequence | None = None
    item: Any = None
    length: int | None = None
    check: Callable[[Any], str | None] | None = None
    ndim: int | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Section:
    """A card table with declared keys.  ``extra`` = allow undeclared keys (only for free tables such as
    a model point); ``one_of`` = groups of keys of which exactly one must be given; ``check(values)`` a
    cross-key check on the validated values returning None, a problem (about the section) or a tuple
    ``(key, problem[, fix])`` naming the key (see :func:`needs` for model-dependent keys)."""

    name: str
    doc: str = ""
    fields: Sequence[Field] = ()
    extra: bool = False
    one_of: Sequence[Sequence[str]] = ()
    check: Callable[[dict], str | None] | None = None

    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def extend(self, *fields: Field, name: str | None = None, doc: str | None = None) -> "Section":
        """A copy with more fields (e.g. the common keys of a stage plus one model's own)."""
        return Section(name or self.name, self.doc if doc is None else doc, tuple(self.fields) + fields,
                       self.extra, self.one_of, self.check)


def suggest(word: str, options) -> str:
    """' (did you mean 'x'?)' for the closest option, or ''."""
    best = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{best[0]}'?" if best else ""


def _tname(t) -> str:
    if isinstance(t, Section):
        return "table"
    if isinstance(t, tuple):
        return " or ".join(_tname(x) for x in t)
    return {float: "number", int: "integer", str: "string", bool: "true/false", list: "list",
            dict: "table"}.get(t, getattr(t, "__name__", str(t)))


def _is(value, t) -> bool:
    if t is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(t, Section):
        return isinstance(value, dict)
    return isinstance(value, t)


def validate(table: Any, section: Section, *, path, prefix: str = "") -> dict:
    """Check ``table`` against ``section``; return a new dict with defaults filled in.

    Raises :class:`~nudmsim.errors.CardError` naming ``path`` and the dotted key."""
    where = prefix or section.name
    if not isinstance(table, dict):
        raise CardError(path, where, f"must be a table, got {_tname(type(table))}",
                        f"write [{where}] with its keys")
    fmap = section.field_map()
    out: dict = {}
    if not section.extra:
        for key in table:
            if key not in fmap:
                hint = suggest(key, fmap)
                valid = ", ".join(fmap) or "none"
                raise CardError(path, _join(where, key), "is not a valid key",
                                hint or f"valid keys here: {valid}")
    for grp in section.one_of:
        given = [k for k in grp if k in table]
        if len(given) != 1:
            raise CardError(path, where, f"give exactly one of {', '.join(grp)}"
                            + (f" (got {', '.join(given)})" if given else ""))
    for f in section.fields:
        key = _join(where, f.name)
        if f.name not in table:
            if f.required and not any(f.name in grp for grp in section.one_of):
                raise CardError(path, key, "is missing", f"add it: {f.doc}" if f.doc else "add it")
            out[f.name] = None if f.default is REQUIRED else f.default
            continue
        out[f.name] = _value(table[f.name], f, path, key)
    if section.extra:
        for k, v in table.items():
            out.setdefault(k, v)
    if section.check is not None:
        _raise_problem(section.check(out), path, where)
    return out


def _raise_problem(problem, path, where: str) -> None:
    """A check's result: None/"" (fine), a problem string (about the section), or a tuple
    ``(key, problem[, fix])`` naming the key inside the section."""
    if not problem:
        return
    if isinstance(problem, tuple):
        key, text, *fix = problem
        raise CardError(path, _join(where, key) if key else where, text, fix[0] if fix else "")
    raise CardError(path, where, problem)


def needs(discriminator: str, required: dict, *, also: Callable[[dict], Any] | None = None):
    """A :attr:`Section.check` for keys that only some models need: ``required`` maps each value of the
    ``discriminator`` key to the keys that must then be given (declare them with ``default=None``).

    Example: ``check=needs("model", {"constant": ["constant"], "table": ["table_file"]})``.
    ``also`` is a further check run after this one."""

    def check(values: dict):
        choice = values.get(discriminator)
        for key in required.get(choice, ()):
            if values.get(key) is None:
                return key, "is missing", f"{discriminator} = {choice!r} needs it"
        return also(values) if also is not None else None

    check.needs = (discriminator, {k: tuple(v) for k, v in required.items()})
    return check


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _value(value, f: Field, path, key: str):
    t = f.type
    if isinstance(t, Section):
        return validate(value, t, path=path, prefix=key)
    if t is list and isinstance(f.item, Section):
        if not isinstance(value, list):
            raise CardError(path, key, f"must be a list of tables, got {_tname(type(value))}")
        return [validate(v, f.item, path=path, prefix=f"{key}[{i}]") for i, v in enumerate(value)]
    types = t if isinstance(t, tuple) else (t,)
    if not any(_is(value, x) for x in types):
        raise CardError(path, key, f"must be a {_tname(t)}{_unit(f)}, got {_tname(type(value))} {value!r}",
                        f"write e.g. {f.name} = {_example(f)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float in types and not isinstance(value, float):
            value = float(value)
        _range(value, f, path, key)
    if isinstance(value, list):
        value = _list(value, f, path, key)
    if f.choices is not None and value not in f.choices:
        hint = suggest(str(value), [str(c) for c in f.choices])
        raise CardError(path, key, f"is {value!r}", (hint + " " if hint else "")
                        + f"choose one of {', '.join(map(str, f.choices))}")
    if f.check is not None:
        problem = f.check(value)
        if problem:
            raise CardError(path, key, problem)
    return value


def _unit(f: Field) -> str:
    return f" (in {f.unit})" if f.unit else ""


def _example(f: Field) -> str:
    if f.default is not REQUIRED and f.default is not None:
        return toml_repr(f.default)
    return {float: "1.0", int: "1", str: '"..."', bool: "true", list: "[1.0, 2.0]"}.get(
        f.type if not isinstance(f.type, tuple) else f.type[0], "...")


def _range(x: float, f: Field, path, key: str) -> None:
    if isinstance(x, float) and not math.isfinite(x):
        raise CardError(path, key, f"is {x}", "give a finite number")
    if f.lo is not None and (x < f.lo or (f.lo_open and x == f.lo)):
        raise CardError(path, key, f"must be {'>' if f.lo_open else '>='} {f.lo:g}{_unit(f)}, got {x:g}")
    if f.hi is not None and (x > f.hi or (f.hi_open and x == f.hi)):
        raise CardError(path, key, f"must be {'<' if f.hi_open else '<='} {f.hi:g}{_unit(f)}, got {x:g}")


def _list(value: list, f: Field, path, key: str) -> list:
    if f.length is not None and len(value) != f.length:
        raise CardError(path, key, f"must have {f.length} entries, got {len(value)}")
    item = f.item if f.item is not None else float
    if item is Any:
        return value

    def walk(v, k, depth=0):
        if isinstance(v, list):
            if f.ndim is not None and depth >= f.ndim:
                raise CardError(path, k, f"must be a {_tname(item)}, got a list",
                                f"{f.name} is a {f.ndim}-d list")
            return [walk(x, f"{k}[{i}]", depth + 1) for i, x in enumerate(v)]
        if f.ndim is not None and depth < f.ndim:
            raise CardError(path, k, f"must be a list, got {_tname(type(v))} {v!r}",
                            f"{f.name} is a {f.ndim}-d list")
        if not _is(v, item):
            raise CardError(path, k, f"must be a {_tname(item)}, got {_tname(type(v))} {v!r}")
        if item is float:
            v = float(v)
            _range(v, f, path, k)
        return v

    return [walk(x, f"{key}[{i}]", 1) for i, x in enumerate(value)]


def toml_repr(value) -> str:
    """``value`` as it is written in a TOML card (strings in double quotes, true/false, [a, b])."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_repr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return repr(value)


def dotted_keys(section: Section, prefix: str = "") -> dict[str, Field]:
    """Every key of ``section`` by dotted name, nested sections expanded (``response.quenching.model``);
    a nested section's own name is listed too."""
    out: dict[str, Field] = {}
    for f in section.fields:
        key = _join(prefix, f.name)
        out[key] = f
        if isinstance(f.type, Section):
            out.update(dotted_keys(f.type, key))
    return out


def nested_sections(section: Section) -> list[Section]:
    """Every sub-table declared inside ``section`` (recursively, each once)."""
    out: list[Section] = []
    for f in section.fields:
        for s in (f.type, f.item):
            if isinstance(s, Section) and all(s is not o for o in out):
                out.append(s)
                out += [n for n in nested_sections(s) if all(n is not o for o in out)]
    return out


def reference_markdown(section: Section, level: int = 3, _seen: list | None = None) -> str:
    """The card reference of ``section`` as Markdown (a table of key, type, unit, default, meaning);
    sub-tables follow, each documented once."""
    seen = _seen if _seen is not None else []
    seen.append(section)
    lines = [f"{'#' * level} `[{section.name}]`", ""]
    if section.doc:
        lines += [section.doc, ""]
    lines += ["| key | type | unit | default | meaning |", "|---|---|---|---|---|"]
    nested = []
    disc, needed = getattr(section.check, "needs", (None, {}))
    for f in section.fields:
        t = f.type
        if isinstance(t, Section):
            nested.append(t)
        if t is list and isinstance(f.item, Section):
            nested.append(f.item)
        default = "required" if f.required else ("—" if f.default is None else f"`{toml_repr(f.default)}`")
        groups = [g for g in section.one_of if f.name in g]
        if groups:
            default = "one of " + " / ".join(f"`{k}`" for k in groups[0])
        when = [f"`{disc} = \"{val}\"`" for val, keys in needed.items() for k in keys if k == f.name]
        if when:
            default = "required if " + " or ".join(when)
        rng = []
        if f.lo is not None:
            rng.append(f"{'>' if f.lo_open else '≥'} {f.lo:g}")
        if f.hi is not None:
            rng.append(f"{'<' if f.hi_open else '≤'} {f.hi:g}")
        if f.choices:
            rng.append("one of " + ", ".join(f"`{c}`" for c in f.choices))
        doc = (f.doc + (f" ({'; '.join(rng)})" if rng else "")).replace("|", "\\|")
        tname = _tname(t)
        if t is list:
            tname = "list of tables" if isinstance(f.item, Section) or f.item is dict else (
                f"list of {_tname(f.item or float)}s" if f.ndim in (None, 1) else f"{f.ndim}-d list of "
                f"{_tname(f.item or float)}s")
        lines.append(f"| `{f.name}` | {tname} | {f.unit} | {default} | {doc} |")
    out = "\n".join(lines) + "\n"
    for s in nested:
        if all(s is not o for o in seen):
            out += "\n" + reference_markdown(s, level + 1, seen)
    return out


__all__ = ["Field", "Section", "REQUIRED", "validate", "suggest", "needs", "dotted_keys", "reference_markdown"]
