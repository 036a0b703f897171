"""Progress bars for long commands: one helper for every command (generate, limit scans, figures).

Usage::

    from nudmsim.progress import progress

    with progress(total=n_events, desc="generate", unit="ev", quiet=args.quiet) as bar:
        for chunk in work:
            ...
            bar.update(len(chunk))

The bar is a ``tqdm`` bar on stderr, shown only when stderr is a terminal and ``quiet`` is false, so pipes,
log files, CI and tests get no control characters; otherwise the same object is a no-op (``update``,
``set_postfix_str`` and ``close`` do nothing).  ``NUDMSIM_PROGRESS=1`` forces the bar on (e.g. under
``script``), ``NUDMSIM_PROGRESS=0`` forces it off.  Leaving the ``with`` block (also by an exception or
Ctrl-C) closes the bar and ends its line, so the error message that follows starts on a fresh line.
"""
from __future__ import annotations

import os
import sys


class _Off:
    """The disabled bar: same interface, does nothing."""

    n = 0

    def update(self, k=1):
        self.n += k

    def set_postfix_str(self, s="", refresh=True):
        pass

    def set_description(self, desc=None, refresh=True):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def enabled(quiet: bool = False, stream=None) -> bool:
    """True when a bar would be drawn: not quiet, stderr (or ``stream``) a TTY, unless NUDMSIM_PROGRESS says."""
    force = os.environ.get("NUDMSIM_PROGRESS", "").strip()
    if quiet or force == "0":
        return False
    if force == "1":
        return True
    stream = stream or sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress(total=None, desc: str = "", unit: str = "it", quiet: bool = False, unit_scale: bool = True,
             **kw):
    """A context-manager progress bar (see module docstring); ``total=None`` for an open-ended count."""
    if not enabled(quiet):
        return _Off()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.2, leave=True, **kw)
