"""Small reusable checks for card schemas (each returns None or a problem description)."""
from __future__ import annotations

import math


def increasing(values) -> str | None:
    """A flat list of numbers in strictly increasing order."""
    if any(b <= a for a, b in zip(values, values[1:])):
        return f"must be strictly increasing, got {values}"
    return None


def pairs(values) -> str | None:
    """A list of [lo, hi] pairs with lo < hi."""
    for row in values:
        if len(row) != 2 or not row[0] < row[1]:
            return f"must be a list of [lo, hi] pairs with lo < hi, got {values}"
    return None


def above(hi_key: str, lo_key: str):
    """Section check: ``hi_key`` > ``lo_key`` (both given)."""

    def check(v: dict):
        lo, hi = v.get(lo_key), v.get(hi_key)
        if lo is not None and hi is not None and not hi > lo:
            return hi_key, f"must be larger than {lo_key} ({lo:g}), got {hi:g}"
        return None

    return check


def all_of(*checks):
    """Section check running ``checks`` in order (the first problem wins)."""

    def check(v: dict):
        for fn in checks:
            problem = fn(v)
            if problem:
                return problem
        return None

    # keep the model-dependent key table of a schema.needs() check visible to the docs
    for fn in checks:
        if hasattr(fn, "needs"):
            check.needs = fn.needs
    return check


def finite_positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0
