"""Progress bars for long commands (limits, scans, figures, generation).

One small, generic helper so every command shows the same thing::

    with progress(total=50, desc="coherent2017 r=3", quiet=args.quiet) as bar:
        for m in masses:
            ...
            bar.update()          # one unit done (bar.update(k) for k units)

The bar (tqdm) goes to stderr with an ETA; it is silent when ``quiet`` is true or when stderr is not a
terminal (pipes, CI logs, batch jobs), so redirected output holds results only.  ``total=None`` gives a
counter without ETA.  Nested bars (a figure computing several curves) stack with ``leave=False`` for the
inner ones.
"""
from __future__ import annotations

import contextlib
import sys


class _Silent:
    """Drop-in for a tqdm bar that does nothing (quiet mode, stderr not a terminal)."""

    n = 0

    def update(self, k: int = 1) -> None:
        self.n += k

    def set_description(self, desc: str) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def write(self, text: str) -> None:
        pass


def enabled(quiet: bool = False) -> bool:
    """True when a bar would be drawn: not quiet and stderr is a terminal."""
    if quiet:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


_DEPTH = [0]


@contextlib.contextmanager
def progress(total: int | None, desc: str = "", quiet: bool = False, unit: str = "point", unit_scale: bool = False):
    """Context manager yielding a bar with ``update(k=1)``, ``set_description``, ``set_postfix_str``.
    ``unit_scale=True`` prints large counts as 1.2M (events)."""
    if not enabled(quiet):
        yield _Silent()
        return
    from tqdm.auto import tqdm

    depth = _DEPTH[0]
    _DEPTH[0] += 1
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr, leave=depth == 0,
               position=depth, dynamic_ncols=True, mininterval=0.2, smoothing=0.1)
    try:
        yield bar
    finally:
        bar.close()
        _DEPTH[0] -= 1


__all__ = ["progress", "enabled"]
