"""Ctrl-C that is never lost.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread happens to be.  During start-up that can
be inside a C callback (numba loading its cache, ctypes) or a library's broad ``except`` clause, which swallow
it: the command then ran to the end and exited 0.  :func:`install` (called by the CLI first thing) records every
SIGINT before raising, and long loops call :func:`check` between units of work, so a swallowed interrupt still
ends the run (exit 130, outputs removed) at the next check.
"""
from __future__ import annotations

import signal
import threading

_hit = False


def handler(signum, frame):
    """The recording SIGINT handler: remember, then raise KeyboardInterrupt as Python's default does."""
    global _hit
    _hit = True
    raise KeyboardInterrupt


def install():
    """Install :func:`handler` in the main thread when SIGINT has Python's default handler (an inherited
    SIG_IGN, e.g. ``nohup``, is respected); forget earlier interrupts.  Returns the handler it replaced (for
    :func:`restore`), or None."""
    reset()
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        return signal.signal(signal.SIGINT, handler)
    return None


def restore(old) -> None:
    """Put back the handler :func:`install` replaced."""
    if old is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, old)


def hit() -> bool:
    """Whether a SIGINT arrived since :func:`install` (or the last :func:`reset`)."""
    return _hit


def check() -> None:
    """Raise KeyboardInterrupt if a SIGINT arrived (even one a library swallowed)."""
    if _hit:
        raise KeyboardInterrupt


def reset() -> None:
    global _hit
    _hit = False


__all__ = ["install", "restore", "handler", "hit", "check", "reset"]
