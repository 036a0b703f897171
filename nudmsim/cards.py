"""TOML cards: detector cards in ``detectors/`` and source definitions in ``fluxes/``.

A card is found by name (``coherent_csi_2017`` -> ``detectors/coherent_csi_2017.toml``) or by path.
Every access goes through :class:`Card`, whose getters validate type, range and presence and raise
:class:`~nudmsim.errors.CardError` naming the file, the dotted key and the fix.  Each card has a
``[card]`` table with at least ``name`` and ``description``; a detector card also has ``kind`` (the
analysis it serves), so a new detector is a new file.

Example::

    card = load_detector("coherent_csi_2017")
    mass = card.number("target.mass_kg", positive=True)   # plain float, unit in the key name
    qf = card.get("response.quenching.model", str, choices=("constant", "table"))
"""
from __future__ import annotations

import hashlib
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CardError, NudmsimError
from .paths import search_dirs

_MISSING = object()


class Card:
    """A validated view of a parsed TOML card.  ``path`` is the file, ``sha256`` the content hash."""

    def __init__(self, data: dict, path: Path, text: str, kind: str):
        self.data = data
        self.path = Path(path)
        self.kind = kind
        self.sha256 = hashlib.sha256(text.encode()).hexdigest()
        self.text = text

    # -- basic access ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.get("card.name", str)

    def error(self, key: str, problem: str, fix: str = "") -> CardError:
        return CardError(self.path, key, problem, fix)

    def has(self, key: str) -> bool:
        return self._lookup(key, _MISSING) is not _MISSING

    def _lookup(self, key: str, default):
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def get(self, key: str, typ=None, default=_MISSING, choices=None):
        """Value at dotted ``key``; checks the type and (optionally) the allowed choices."""
        val = self._lookup(key, _MISSING)
        if val is _MISSING:
            if default is not _MISSING:
                return default
            raise self.error(key, "is missing", f"add it to the card; see {self.kind}s/README.md")
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
            raise self.error(key, "must be a list of numbers") from None
        if ndim is not None and arr.ndim != ndim:
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
        from .paths import resource_dir

        name = self.get(key, str)
        for base in (self.path.parent, resource_dir("data"), resource_dir("fluxes")):
            p = base / name
            if p.is_file():
                return p
        raise self.error(key, f"names file '{name}', which does not exist",
                         "give a path relative to the card, to data/ or to fluxes/")

    def __repr__(self) -> str:
        return f"<{self.kind} card {self.path.name} sha256={self.sha256[:12]}>"


def _find(name_or_path: str, kind: str) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise NudmsimError(f"{kind} card file '{p}' does not exist")
        return p
    folder = "detectors" if kind == "detector" else "fluxes"
    for d in search_dirs(folder):
        cand = d / f"{name_or_path}.toml"
        if cand.is_file():
            return cand
    known = available(kind)
    raise NudmsimError(f"unknown {kind} '{name_or_path}' (known: {', '.join(known) or 'none'}; "
                       f"or give a path to a .toml card)")


def available(kind: str = "detector") -> list[str]:
    folder = "detectors" if kind == "detector" else "fluxes"
    names: set[str] = set()
    for d in search_dirs(folder):
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def load(name_or_path: str, kind: str = "detector") -> Card:
    """Load and parse a card; raises CardError for a malformed file (with the TOML error's line)."""
    path = _find(str(name_or_path), kind)
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(path, "", f"is not valid TOML: {exc}", "fix the syntax at that line") from None
    card = Card(data, path, text, kind)
    card.get("card.name", str)
    card.get("card.description", str)
    return card


def load_detector(name_or_path: str) -> Card:
    """Detector card by name (``detectors/NAME.toml``) or path."""
    return load(name_or_path, "detector")


def load_source(name_or_path: str) -> Card:
    """Source card by name (``fluxes/NAME.toml``) or path."""
    return load(name_or_path, "source")
