"""Row kernels compiled twice: multi-threaded for large batches, single-threaded for small ones.

Waking numba's worker threads costs tens of µs on an idle machine and milliseconds on a loaded one, which
dominates the expectation mode (1e4-1e6 rows, called per model point).  :func:`dual_kernel` compiles the
same loop (written with ``prange``) as a ``parallel=True`` and a serial function (``prange`` is ``range``
there) and calls the serial one below :data:`PARALLEL_MIN` rows.  Both release the GIL (a writer thread
compresses while they run) and are cached on disk (distinct
qualified names, so distinct cache files).
"""
from __future__ import annotations

import types

from numba import njit

#: batches with fewer rows run single-threaded
PARALLEL_MIN = 500_000


class DualKernel:
    """``kernel(n, *args)``: the parallel version when ``n >= PARALLEL_MIN``, else the serial one."""

    def __init__(self, fn):
        self.parallel = njit(parallel=True, cache=True, nogil=True)(fn)
        clone = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial", fn.__defaults__,
                                   fn.__closure__)
        clone.__qualname__ = fn.__qualname__ + "_serial"
        clone.__module__ = fn.__module__
        self.serial = njit(cache=True, nogil=True)(clone)
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __call__(self, n: int, *args):
        return (self.parallel if n >= PARALLEL_MIN else self.serial)(*args)


def dual_kernel(fn) -> DualKernel:
    """Decorator: see :class:`DualKernel`."""
    return DualKernel(fn)


__all__ = ["dual_kernel", "DualKernel", "PARALLEL_MIN"]
