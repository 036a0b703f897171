"""A workspace compiled into dense arrays: fast expected counts and the analytic gradient of −2 ln L.

:meth:`Workspace.spec` returns a :class:`CompiledSpec` — the same :class:`~nudmsim.stats.likelihood.Spec`
interface (fits, limits, Asimov, toys use it unchanged) whose expectation is evaluated from arrays on the used
bins only, vectorised over samples and modifiers, with the gradient that iminuit's MIGRAD takes instead of
finite differences (one evaluation per step instead of 2 per free parameter).

Expected counts of sample k at parameters p (the workspace's modifiers):

    u_k(p)  = max(n_k + sum_i delta_ki(theta_i), 0)           histosys: delta from a cubic (or linear) spline
    u_k    /= sum(u_k)                                          if the sample is unit-normalised
    nu_k(p) = u_k(p) * prod normfactors * prod (1 + theta err)  normsys: err = hi for theta >= 0, lo below

and −2 ln L = 2 sum_b [nu_b − n_b + n_b ln(n_b/nu_b)] + constraints (+ the on/off control terms, profiled
analytically).  The derivative of the profiled likelihood w.r.t. a parameter is its partial derivative at the
profiled backgrounds (envelope theorem: the profile sits where d(−2 ln L)/db = 0, or at b = 0 where b does not
move), so the gradient is 2 sum_b (1 − n_b/nu_b) d nu_b/dp + 2 (p − m)/sigma^2.
Parametric samples (a shape function of free parameters) are evaluated by their function, with a
finite-difference gradient for their parameters.
"""
from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

from .likelihood import Spec, profile_on_off

_TINY = 1e-300


@dataclass(frozen=True)
class _Shape:
    """A histosys delta as spline pieces on the used bins: value(x) = ((c0 t + c1) t + c2) t + c3."""

    param: int
    knots: np.ndarray
    c: np.ndarray             # (4, n_knots - 1, n_bins)

    def value_and_slope(self, x: float):
        k = int(np.clip(np.searchsorted(self.knots, x, side="right") - 1, 0, len(self.knots) - 2))
        t = x - self.knots[k]
        c0, c1, c2, c3 = self.c[:, k]
        return ((c0 * t + c1) * t + c2) * t + c3, (3.0 * c0 * t + 2.0 * c1) * t + c2


_SPLINES: dict = {}


def _cached_spline(knots, templates, nominal, mask) -> np.ndarray:
    """:func:`_spline` of (templates - nominal) on the used bins, kept per content (knots, deltas): the
    mass-independent samples of a limit scan give the same templates at every point, and the spline fit costs
    ~10x the hash of its input."""
    m = np.asarray(mask, bool)
    deltas = np.asarray([np.asarray(t, float)[m] for t in templates]) - np.asarray(nominal, float)[m][None]
    kn = np.asarray(knots, float)
    key = hashlib.blake2b(kn.tobytes() + np.ascontiguousarray(deltas).tobytes() + repr(deltas.shape).encode(),
                          digest_size=16).digest()
    c = _SPLINES.get(key)
    if c is None:
        c = _SPLINES[key] = _spline(kn, deltas)
        if len(_SPLINES) > 256:
            del _SPLINES[next(iter(_SPLINES))]
    return c


def _spline(knots, deltas) -> np.ndarray:
    knots = np.asarray(knots, float)
    deltas = np.asarray(deltas, float)
    if len(knots) > 3:
        from scipy.interpolate import CubicSpline

        return CubicSpline(knots, deltas, axis=0).c
    slopes = np.diff(deltas, axis=0) / np.diff(knots)[:, None]
    zeros = np.zeros_like(slopes)
    return np.stack([zeros, zeros, slopes, deltas[:-1]])


@dataclass(frozen=True)
class _Sample:
    name: str
    nominal: np.ndarray        # (n_bins,) on the used bins
    shapes: tuple
    normfactors: tuple         # parameter indices
    normsys: tuple             # (index, hi, lo)
    unit: bool
    parametric: object = None  # (fn, {arg: index}, x, consts) or None


class CompiledModel:
    """The dense form of a workspace (see the module docstring); parameter order = ``names``."""

    def __init__(self, ws, names):
        from .workspace import PARAMETRIC

        self.names = list(names)
        idx = {n: i for i, n in enumerate(self.names)}
        self.mask = np.asarray(ws.mask, bool)
        m = self.mask
        self.samples, self.onoff = [], []
        for s in ws.samples:
            onoff = [md for md in s.modifiers if md.type == "onoff"]
            if onoff:
                self.onoff.append((s.name, np.asarray(onoff[0].data["off"], float)[m],
                                   float(onoff[0].data.get("tau", 1.0))))
                continue
            nominal = np.asarray(s.nominal, float)[m]
            shapes, nf, ns, par = [], [], [], None
            for md in s.modifiers:
                if md.type == "normfactor":
                    nf.append(idx[md.name])
                elif md.type == "normsys":
                    ns.append((idx[md.name], float(md.data["hi"]), float(md.data["lo"])))
                elif md.type == "histosys":
                    shapes.append(_Shape(idx[md.name], np.asarray(md.data["knots"], float),
                                         _cached_spline(md.data["knots"], md.data["templates"], s.nominal, ws.mask)))
                elif md.type == "parametric":
                    fn, pnames = PARAMETRIC[md.data["model"]]
                    consts = {k: v for k, v in md.data.items() if k not in ("model", "params", "x")}
                    par = (fn, {a: idx[md.data["params"][a]] for a in pnames}, np.asarray(md.data["x"], float),
                           consts, np.asarray(s.nominal).shape)
            self.samples.append(_Sample(s.name, nominal, tuple(shapes), tuple(nf), tuple(ns), s.unit_normalised,
                                        par))
        self.n_bins = int(m.sum())
        self.shape = m.shape

        self._stack()

    def _stack(self) -> None:
        """All histosys of all samples as one coefficient array, so one evaluation is a few numpy calls."""
        plain = [s for s in self.samples if s.parametric is None]
        self.plain = plain
        self.N = np.array([s.nominal for s in plain]).reshape(len(plain), self.n_bins)
        shapes = [(k, sh) for k, s in enumerate(plain) for sh in s.shapes]
        self.shape_sample = np.array([k for k, _ in shapes], int)
        self.shape_param = np.array([sh.param for _, sh in shapes], int)
        self.shape_knots = [list(map(float, sh.knots)) for _, sh in shapes]
        self.knot_arrays = [sh.knots for _, sh in shapes]
        kmax = max([len(sh.knots) - 1 for _, sh in shapes], default=1)
        self.C = np.zeros((4, len(shapes), kmax, self.n_bins))
        for j, (_, sh) in enumerate(shapes):
            self.C[:, j, : sh.c.shape[1]] = sh.c
        kp = max([len(sh.knots) for _, sh in shapes], default=2)
        self.knots_pad = np.zeros((len(shapes), kp))
        for j, (_, sh) in enumerate(shapes):
            self.knots_pad[j, : len(sh.knots)] = sh.knots
        self.n_knots = np.array([len(sh.knots) for _, sh in shapes], np.int64)
        nf = [list(s.normfactors) for s in plain]
        ns = [list(s.normsys) for s in plain]
        self.nf_ptr = np.cumsum([0] + [len(x) for x in nf]).astype(np.int64)
        self.nf_idx = np.array([i for x in nf for i in x], np.int64)
        self.ns_ptr = np.cumsum([0] + [len(x) for x in ns]).astype(np.int64)
        self.ns_idx = np.array([i for x in ns for i, _, _ in x], np.int64)
        self.ns_hi = np.array([h for x in ns for _, h, _ in x], float)
        self.ns_lo = np.array([lo for x in ns for _, _, lo in x], float)
        self.numba_ok = all(s.parametric is None for s in self.samples)
        self.M = np.zeros((len(plain), len(shapes)))
        self.M[self.shape_sample, np.arange(len(shapes))] = 1.0
        self.unit = np.array([s.unit for s in plain], bool)
        # interpolated shapes may undershoot and are clipped at 0; a sample without shapes keeps its sign (a
        # signed template, e.g. the change of a spectrum that a parameter makes)
        self.clip = np.array([len(s.shapes) > 0 for s in plain], bool)
        self.factors = [(s.normfactors, s.normsys) for s in plain]

    # -- evaluation ---------------------------------------------------------------------------------
    def _parametric_u(self, s: _Sample, p, want_grad: bool):
        fn, amap, x, consts, full = s.parametric
        args = {a: p[i] for a, i in amap.items()}
        u = np.asarray(fn(x, **args, **consts), float).reshape(full)[self.mask]
        grads = {}
        if want_grad:
            for a, i in amap.items():
                h = 1e-6 * max(abs(p[i]), 1e-3)
                up = np.asarray(fn(x, **dict(args, **{a: p[i] + h}), **consts), float).reshape(full)[self.mask]
                grads[i] = (up - u) / h
        return u, grads

    def expected(self, p, want_grad: bool = False, per_sample: bool = True):
        """(total of the non-on/off samples on the used bins, per-sample arrays (if ``per_sample``), gradient
        rows {i: dnu/dp} (if ``want_grad``))."""
        p = np.asarray(p, float)
        n_s = len(self.plain)
        U = self.N.copy()
        if len(self.shape_param):
            xs = p[self.shape_param]
            k = np.array([min(max(bisect.bisect_right(kn, x) - 1, 0), len(kn) - 2)
                          for kn, x in zip(self.shape_knots, xs)])
            t = (xs - np.array([kn[i] for kn, i in zip(self.knot_arrays, k)]))[:, None]
            j = np.arange(len(xs))
            c0, c1, c2, c3 = (self.C[q, j, k] for q in range(4))
            vals = ((c0 * t + c1) * t + c2) * t + c3
            U += self.M @ vals
        neg = (U < 0) & self.clip[:, None]
        U[neg] = 0.0
        tots = U.sum(axis=1)
        scale = np.where(self.unit & (tots > 0), 1.0 / np.where(tots > 0, tots, 1.0), 1.0)
        F = np.ones(n_s)
        for k2, (nfs, nss) in enumerate(self.factors):
            for i in nfs:
                F[k2] *= p[i]
            for i, hi, lo in nss:
                F[k2] *= 1.0 + p[i] * (hi if p[i] >= 0 else lo)
        W = F * scale
        total = W @ U
        per = {s.name: U[k2] * W[k2] for k2, s in enumerate(self.plain)} if per_sample else {}
        grad: dict = {}
        for s in self.samples:
            if s.parametric is not None:
                u, gu = self._parametric_u(s, p, want_grad)
                f = 1.0
                for i in s.normfactors:
                    f *= p[i]
                for i, hi, lo in s.normsys:
                    f *= 1.0 + p[i] * (hi if p[i] >= 0 else lo)
                per[s.name] = u * f
                total = total + u * f
                if want_grad:
                    for i, g in gu.items():
                        grad[i] = grad.get(i, 0.0) + g * f
                    for i in s.normfactors:
                        grad[i] = grad.get(i, 0.0) + (u * f / p[i] if p[i] != 0 else 0.0)
                    for i, hi, lo in s.normsys:
                        err = hi if p[i] >= 0 else lo
                        grad[i] = grad.get(i, 0.0) + u * f * err / (1.0 + p[i] * err)
        if not want_grad:
            return total, per, grad
        if len(self.shape_param):
            slopes = (3.0 * c0 * t + 2.0 * c1) * t + c2
            slopes = np.where(neg[self.shape_sample], 0.0, slopes)
            for jj in range(len(xs)):
                k2 = self.shape_sample[jj]
                d = slopes[jj]
                if self.unit[k2] and tots[k2] > 0:
                    d = d - U[k2] / tots[k2] * d.sum()
                grad[self.shape_param[jj]] = grad.get(self.shape_param[jj], 0.0) + d * W[k2]
        for k2, (nfs, nss) in enumerate(self.factors):
            nu = U[k2] * W[k2]
            for i in nfs:
                d = nu / p[i] if p[i] != 0 else U[k2] * scale[k2] * np.prod([p[q] for q in nfs if q != i])
                grad[i] = grad.get(i, 0.0) + d
            for i, hi, lo in nss:
                err = hi if p[i] >= 0 else lo
                fac = 1.0 + p[i] * err
                grad[i] = grad.get(i, 0.0) + (nu / fac * err if fac != 0 else 0.0)
        return total, per, grad


@dataclass
class CompiledSpec(Spec):
    """A :class:`Spec` evaluated by a :class:`CompiledModel` (same results, faster; ``grad`` for MIGRAD)."""

    model: CompiledModel | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.model is not None and not np.array_equal(self.model.mask, self.mask):
            raise ValueError("CompiledSpec: the mask differs from the compiled model's")

    # -- the Spec interface --------------------------------------------------------------------------
    def _vector(self, params) -> np.ndarray:
        return np.array([params[n] for n in self.model.names], float)

    def component_counts(self, params):
        _, per, _ = self.model.expected(self._vector(params))
        out = {}
        for k, v in per.items():
            full = np.zeros(self.shape)
            full[self.mask] = v
            out[k] = full
        return out

    def expected_components(self, params):
        tot, _, _ = self.model.expected(self._vector(params))
        full = np.zeros(self.shape)
        full[self.mask] = tot
        return full

    # -- the fast cost ---------------------------------------------------------------------------------
    def twice_nll(self, values, want_grad: bool = False):
        """−2 ln L (deviance + constraints, on/off profiled) and optionally its gradient, at ``values`` in
        the order of ``self.names`` (a numba kernel; the numpy path below for parametric samples)."""
        mdl = self.model
        if mdl.numba_ok:
            return self._twice_nll_numba(values, want_grad)
        return self._twice_nll_numpy(values, want_grad)

    def _kernel_args(self):
        if getattr(self, "_kargs", None) is None:
            mdl, m = self.model, self.mask
            n = np.ascontiguousarray(self.observed[m], float)
            if self.on_off:
                if len({o.tau for o in self.on_off}) != 1:
                    raise ValueError("several on/off backgrounds need the same tau")
                off = np.ascontiguousarray(sum(o.off for o in self.on_off)[m], float)
                tau, has = float(self.on_off[0].tau), True
            else:
                off, tau, has = np.zeros(len(n)), 1.0, False
            cons = self._constraints()
            self._kargs = (mdl.N, mdl.C, mdl.knots_pad, mdl.n_knots, mdl.shape_sample.astype(np.int64),
                           mdl.shape_param.astype(np.int64), mdl.unit, mdl.clip, mdl.nf_ptr, mdl.nf_idx, mdl.ns_ptr,
                           mdl.ns_idx, mdl.ns_hi, mdl.ns_lo, n, off, tau, has,
                           np.array([c[0] for c in cons], np.int64), np.array([c[1] for c in cons], float),
                           np.array([c[2] for c in cons], float))
        return self._kargs

    def _twice_nll_numba(self, values, want_grad):
        kernel = _nll_kernel()   # imported once (numba), not on every call
        x = np.asarray(values, float)
        g = np.zeros(len(x))
        val = kernel(x, want_grad, g, *self._kernel_args())
        return (val, g) if want_grad else val

    def _twice_nll_numpy(self, values, want_grad=False):
        mdl = self.model
        m = self.mask
        x = np.asarray(values, float)
        s, _, grad = mdl.expected(x, want_grad, per_sample=False)
        n = self.observed[m]
        nu = s
        total = 0.0
        if self.on_off:                     # the Spec's control counts (toys and Asimov data replace them)
            taus = {o.tau for o in self.on_off}
            if len(taus) != 1:
                raise ValueError("several on/off backgrounds need the same tau")
            tau = self.on_off[0].tau
            off = sum(o.off for o in self.on_off)[m]
            b = profile_on_off(n, s, off, tau)
            total += float(np.sum(_dev(off, tau * b)))
            nu = s + b
        if not np.all(np.isfinite(nu)):
            return (1e30, np.zeros(len(x))) if want_grad else 1e30
        nu_c = np.maximum(nu, _TINY)
        total += float(np.sum(_dev(n, nu_c)))
        g = np.zeros(len(x)) if want_grad else None
        for i, mean, sig in self._constraints():
            total += ((x[i] - mean) / sig) ** 2
            if want_grad:
                g[i] += 2.0 * (x[i] - mean) / sig**2
        if want_grad:
            w = 2.0 * (1.0 - n / nu_c)
            for i, d in grad.items():
                g[i] += float(np.sum(w * d))
            return total, g
        return total

    def _constraints(self):
        if getattr(self, "_cons_cache", None) is None:
            idx = {n: i for i, n in enumerate(self.model.names)}
            self._cons_cache = [(idx[p.name], p.constraint[0], p.constraint[1]) for p in self.parameters
                                if p.constraint is not None]
        return self._cons_cache


def _dev(n, nu):
    ratio = np.divide(n, nu, out=np.ones_like(nu), where=n > 0)
    return 2.0 * (nu - n + xlogy(n, ratio))


@functools.cache
def _nll_kernel():
    """The numba kernel (imported on first use: commands without a fit do not load numba for it)."""
    from ._nll_kernel import twice_nll

    return twice_nll


def compile_spec(ws, spec: Spec) -> CompiledSpec:
    """The CompiledSpec of a workspace, given the Spec it would otherwise build (same parameters/mask)."""
    model = CompiledModel(ws, [p.name for p in spec.parameters])
    fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(Spec)}
    return CompiledSpec(**fields, model=model)


__all__ = ["CompiledModel", "CompiledSpec", "compile_spec"]
