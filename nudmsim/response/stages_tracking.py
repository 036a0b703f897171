"""Tracking stages: a daughter's momentum in the rest frame of its parent, rebuilt from measured tracks.

Registered type: ``resolution / parent_frame_momentum`` (NA62-like: a K+ beam decaying in flight, the daughter
track measured by a spectrometer, the beam particle by a beam tracker).  For a decay at rest the same physics is
``resolution / gaussian`` with ``a = σ_p/p`` on the daughter momentum.

Per row the stage reads the true daughter momentum in the parent frame p* (``on``), its polar angle to the beam
cos θ* (``cos``), the parent's lab momentum along +z (``parent_momentum``) and the daughter and parent masses
(``daughter_mass``, ``parent_mass`` columns, MeV).  The lab track is p* boosted to the lab (azimuth 0: the
smearing below is azimuthally symmetric, so the distribution does not depend on it).  Measured quantities:

* daughter |p| with σ_p/p = ``track_a`` ⊕ ``track_b_per_GeV`` · p[GeV/c] (quadrature),
* daughter slopes dx/dz, dy/dz each with σ = ``track_angle_rad``,
* parent |p| with σ_p/p = ``beam_rel`` and its slopes with σ = ``beam_angle_rad``;

the output (``to``) is the daughter momentum in the *reconstructed* parent frame,
p*_reco = √(E*² − m²) with E* = (E_P E_d − p_P·p_d)/M.

Sample mode draws the six Gaussians per row (one numba pass).  Expect mode uses the Gaussian (second-order
sigma-point) approximation of p*_reco: mean = f₀ + Σᵢ [f(+σᵢ) + f(−σᵢ) − 2f₀]/2, variance = Σᵢ [(f(+σᵢ) −
f(−σᵢ))/2]², then CDF differences on the observable's bin edges subdivided ``subdivide`` times.  The
smearings are per mille, so p*_reco is linear in them to high accuracy (tests/test_meson_engine.py compares
the expectation with the Monte Carlo).
"""
from __future__ import annotations

import math

import numpy as np

from ..schema import Field, Section
from .stage import register_stage
from .stagekit import ParamSet, StageBase, check_edges, errors_section, on_field, to_field
from .stages_resolution import PRUNE, _gauss_probs, subdivided

PARAMS = ("track_a", "track_b_per_GeV", "track_angle_rad", "beam_rel", "beam_angle_rad")


def _lab_track(p_star, cos, p_parent, m, M):
    """Daughter lab momentum components (px, pz) for azimuth 0 [MeV]."""
    e_star = np.sqrt(p_star * p_star + m * m)
    gb = p_parent / M
    g = np.sqrt(1.0 + gb * gb)
    pz = g * p_star * cos + gb * e_star
    px = p_star * np.sqrt(np.maximum(1.0 - cos * cos, 0.0))
    return px, pz


def reconstructed_p_star(px, py, pz, p_parent, m, M, z, p):
    """p* rebuilt from smeared tracks, vectorised; ``z`` = six standard-normal shifts (scalars or arrays:
    |p_d|, slope x, slope y of the daughter; |p_P|, slope x, slope y of the parent), ``p`` the parameters."""
    pd = np.sqrt(px * px + py * py + pz * pz)
    sig = np.sqrt(p["track_a"] ** 2 + (p["track_b_per_GeV"] / 1000.0 * pd) ** 2)
    pr = pd * (1.0 + sig * z[0])
    tx = px / pz + p["track_angle_rad"] * z[1]
    ty = py / pz + p["track_angle_rad"] * z[2]
    pk = p_parent * (1.0 + p["beam_rel"] * z[3])
    kx = p["beam_angle_rad"] * z[4]
    ky = p["beam_angle_rad"] * z[5]
    norm = pr / np.sqrt(1.0 + tx * tx + ty * ty)
    de = np.sqrt(pr * pr + m * m)
    knorm = pk / np.sqrt(1.0 + kx * kx + ky * ky)
    ek = np.sqrt(pk * pk + M * M)
    estar = (ek * de - knorm * norm * (kx * tx + ky * ty + 1.0)) / M
    return np.sqrt(np.maximum(estar * estar - m * m, 0.0))


def _kernel_py(px, py, pz, pk_true, z, m_d, M, a, b, sang, gtk_rel, gtk_ang, pstar_out):
    """Per event (numba): the formula of :func:`reconstructed_p_star` with one draw of the six Gaussians."""
    for i in range(px.shape[0]):
        p = math.sqrt(px[i] * px[i] + py[i] * py[i] + pz[i] * pz[i])
        sig = math.sqrt(a * a + (b * p) ** 2)
        pr = p * (1.0 + sig * z[0, i])
        tx = px[i] / pz[i] + sang * z[1, i]
        ty = py[i] / pz[i] + sang * z[2, i]
        pk = pk_true[i] * (1.0 + gtk_rel * z[3, i])
        kx = gtk_ang * z[4, i]
        ky = gtk_ang * z[5, i]
        norm = pr / math.sqrt(1.0 + tx * tx + ty * ty)
        de = math.sqrt(pr * pr + m_d[i] * m_d[i])
        knorm = pk / math.sqrt(1.0 + kx * kx + ky * ky)
        ek = math.sqrt(pk * pk + M[i] * M[i])
        estar = (ek * de - knorm * (kx * tx + ky * ty + 1.0) * norm) / M[i]
        pstar_out[i] = math.sqrt(max(estar * estar - m_d[i] * m_d[i], 0.0))


try:
    import numba as _numba

    _kernel = _numba.njit(cache=True)(_kernel_py)
except ImportError:  # pragma: no cover
    _kernel = _kernel_py


@register_stage
class ParentFrameMomentum(StageBase):
    family = "resolution"
    model = "parent_frame_momentum"
    default_label = "trk"
    doc = ("Daughter momentum in the reconstructed rest frame of a parent decaying in flight (NA62: K+ beam): the "
           "daughter track (σ_p/p = track_a ⊕ track_b_per_GeV·p[GeV/c], slopes ± track_angle_rad) and the parent "
           "(σ_p/p = beam_rel, slopes ± beam_angle_rad) are smeared, p* is rebuilt as √(E*² − m²), E* = (E_P E_d − "
           "p_P·p_d)/M.  Reads `on` (true p* [MeV]), `cos` (cos θ* to the beam), `parent_momentum` [MeV] and the "
           "mass columns; expectation: Gaussian sigma-point approximation on the observable's bins subdivided "
           "`subdivide` times.  `errors = {track_a = .., ...}` give nuisances `<label>_<param>`.")
    schema = Section("resolution/parent_frame_momentum", fields=(
        on_field("p_star_true_MeV", "true daughter momentum in the parent frame (MeV)"),
        to_field("p_star_MeV", "reconstructed daughter momentum in the reconstructed parent frame (MeV)"),
        Field("cos", str, default="cos_theta_star", doc="column: cos of the daughter's angle to the beam (parent "
                                                         "frame)"),
        Field("parent_momentum", str, default="p_meson_MeV", doc="column: parent lab momentum along +z (MeV)"),
        Field("daughter_mass", str, default="m_vis_MeV", doc="column: daughter mass (MeV)"),
        Field("parent_mass", str, default="m_meson_MeV", doc="column: parent mass (MeV)"),
        Field("track_a", float, lo=0.0, hi=0.5, doc="daughter σ_p/p constant term"),
        Field("track_b_per_GeV", float, lo=0.0, unit="1/(GeV/c)", doc="daughter σ_p/p term ∝ p (in quadrature)"),
        Field("track_angle_rad", float, lo=0.0, unit="rad", doc="daughter slope resolution (each projection)"),
        Field("beam_rel", float, lo=0.0, hi=0.5, doc="parent σ_p/p"),
        Field("beam_angle_rad", float, lo=0.0, unit="rad", doc="parent slope resolution (each projection)"),
        Field("subdivide", int, default=5, lo=1, doc="fine cells per observable bin in the expectation"),
        Field("errors", errors_section(PARAMS), default=None, doc="symmetric 1σ errors of the parameters"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.cols = (values["cos"], values["parent_momentum"], values["daughter_mass"], values["parent_mass"])
        self.params = ParamSet(self, {k: values[k] for k in PARAMS}, values["errors"],
                               bounds={k: (0.0, None) for k in PARAMS})
        obs = ctx.observables.get(self.to) if ctx.observables else None
        if obs is None:
            raise ctx.error("to", f"'{self.to}' is not an observable", "the reconstructed momentum must be an "
                            "observable axis (its bins are the expectation grid)")
        self.edges = subdivided(check_edges(ctx, "to", obs), values["subdivide"])

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.on,) + self.cols

    def _inputs(self, batch):
        p_star = self.column(batch, self.on)
        cos, pk, m, M = (self.column(batch, c) for c in self.cols)
        px, pz = _lab_track(p_star, cos, pk, m, M)
        return px, pz, pk, m, M

    def sample(self, batch, rng, values=None):
        p = self.params.resolve(values)
        px, pz, pk, m, M = self._inputs(batch)
        n = len(px)
        z = rng.standard_normal((6, n), dtype=np.float32)     # float32: ample for per-mille smearing
        out = np.empty(n)
        _kernel(np.ascontiguousarray(px), np.zeros(n), np.ascontiguousarray(pz), np.ascontiguousarray(pk), z,
                np.ascontiguousarray(m), np.ascontiguousarray(M), p["track_a"], p["track_b_per_GeV"] / 1000.0,
                p["track_angle_rad"], p["beam_rel"], p["beam_angle_rad"], out)
        return batch.with_columns(**{self.to: out})

    def moments(self, batch, values=None) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sigma) of p*_reco per row (the sigma-point approximation of the module docstring)."""
        p = self.params.resolve(values)
        px, pz, pk, m, M = self._inputs(batch)
        py = np.zeros_like(px)
        zero = np.zeros(6)
        f0 = reconstructed_p_star(px, py, pz, pk, m, M, zero, p)
        mean, var = f0.copy(), np.zeros_like(f0)
        for i in range(6):
            zp = zero.copy()
            zp[i] = 1.0
            fp = reconstructed_p_star(px, py, pz, pk, m, M, zp, p)
            fm = reconstructed_p_star(px, py, pz, pk, m, M, -zp, p)
            mean += 0.5 * (fp + fm - 2.0 * f0)
            var += (0.5 * (fp - fm)) ** 2
        return mean, np.sqrt(var)

    def expect(self, batch, values=None):
        mu, sig = self.moments(batch, values)
        e = self.edges
        P = np.empty((len(mu), len(e) + 1))
        _gauss_probs(len(mu), np.ascontiguousarray(mu), np.ascontiguousarray(sig), e, 0, P)
        P[P < PRUNE] = 0.0
        vals = np.concatenate([[e[0] - 0.5 * (e[1] - e[0])], 0.5 * (e[:-1] + e[1:]),
                               [e[-1] + 0.5 * (e[-1] - e[-2])]])
        return batch.expand(vals, P, self.to)


__all__ = ["ParentFrameMomentum", "reconstructed_p_star"]
