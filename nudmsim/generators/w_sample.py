"""One generated pp -> W -> l + invisible sample that serves every (m_4, |U_l4|^2) by reweighting.

:func:`generate_sample` draws the W (source: mass, rapidity, p_T given y, quark side), the decay direction in the
W rest frame (proposal density of :mod:`nudmsim.processes.w_decay`), the two pieces E, O of the lepton density at
that direction (angular coefficients A_0..A_4 of the source, :mod:`nudmsim.processes.w_angular`) and the detector
random numbers once.  :func:`reconstruct` evaluates the lepton kinematics for a neutrino mass m_4 (the lepton
four-momentum is p*(M, m_4) k with k fixed per event), applies the response, and returns observables and the
decay weight [E (1 - r) + O + 2r]/(1 + r/2) / proposal.  :func:`templates` histograms the reconstructed lepton p_T
for the light-nu and the nu_4 components, so that the expected spectrum is
N [(1 - |U|^2) T_light + |U|^2 T_heavy(m_4)].  Units: MeV.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import constants as c
from ..processes import w_decay as wd
from ..errors import ParameterError
from ..response import collider as col

GeV = c.GeV
#: events per chunk of uniforms in the generator
CHUNK = 1 << 17
_KEYS = ("m", "y", "pt", "phi", "q", "qdir", "cos_q", "phi_cs", "kE", "kx", "ky", "kz", "e_dens", "o_dens")


@dataclass
class WSample:
    """Truth of n generated W -> l nu events + the per-event detector random numbers.

    ``xscale``: fraction of the decay lepton's momentum carried by the observed charged lepton (None = 1; the
    W -> tau nu -> l nu nu nu background stores the tau -> l energy fraction)."""

    n: int
    sigma: float                   # sigma(pp -> W -> l nu) x K for the generated charges [mm^2]
    truth: dict                    # m, y, pt, phi, charge, qdir, cos_q, phi_cs, e_dens, o_dens
    k: tuple                       # lab four-vector of a unit-energy lepton (kE, kx, ky, kz)
    z_lep: np.ndarray              # standard normals for the lepton resolution
    z_rec: tuple                   # standard normals for the recoil (x, y)
    mw_ref: float = c.M_W
    n_generated: int = 0           # events generated (a subset keeps the parent's number for the weights)
    xscale: np.ndarray | None = None
    _derived: dict = field(default_factory=dict, repr=False)
    _tcache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not self.n_generated:
            self.n_generated = self.n

    def scale(self):
        return np.ones(self.n) if self.xscale is None else self.xscale

    def derived(self):
        """k_T, eta, cos/sin phi of the lepton, W p_x, p_y (cached; independent of m_4)."""
        if not self._derived:
            ke, kx, ky, kz = self.k
            kt = np.hypot(kx, ky)
            self._derived.update(kt=kt, eta=np.arcsinh(kz / kt), cphi=kx / kt, sphi=ky / kt,
                                 wpx=self.truth["pt"] * np.cos(self.truth["phi"]),
                                 wpy=self.truth["pt"] * np.sin(self.truth["phi"]))
        return self._derived

    def subset(self, mask):
        t = {k: v[mask] for k, v in self.truth.items()}
        out = WSample(int(np.count_nonzero(mask)), self.sigma, t, tuple(a[mask] for a in self.k),
                      self.z_lep[mask], tuple(a[mask] for a in self.z_rec), self.mw_ref, self.n_generated,
                      None if self.xscale is None else self.xscale[mask])
        out._derived = {k: v[mask] for k, v in self.derived().items()}
        return out


def kernel_source_args(source):
    """The source's sampling tables in the order of the numba kernels."""
    t = source.kernel_tables()
    return (t["p_plus"], t["inv_m"], source.masses, source.ys, t["norms"], t["flat"], t["tabs"], t["inv_pt"],
            t["ang"], t["gpar"], t["guide"])


def draw_chunks(n: int, rng: np.random.Generator, extra: int = 0, chunk: int = CHUNK, reuse: bool = False):
    """The random numbers of n events, chunk by chunk, in a fixed order: per chunk the (k, 11) uniforms of the
    generator, the (3, k) standard normals of the detector, then ``extra`` rows of k uniforms (e.g. the light/heavy
    choice of ``w-lepton``).  Every path that consumes them (arrays, fused kernels) therefore sees the same events
    for the same seed.  ``reuse=True`` fills the same buffers every chunk (the caller must not keep them)."""
    from . import _w_kernels as kern

    buf = None
    for a in range(0, n, chunk):
        k = min(n, a + chunk) - a
        if not reuse:
            u = rng.random((k, kern.N_UNIFORMS))
            z = rng.standard_normal((3, k))
            yield (u, z) + tuple(rng.random(k) for _ in range(extra))
            continue
        if buf is None:
            buf = (np.empty((chunk, kern.N_UNIFORMS)), np.empty((3, chunk)), np.empty((max(extra, 1), chunk)))
        u, z, x = buf[0][:k], buf[1][:, :k], buf[2][:, :k]
        rng.random(out=u)
        if k == chunk:
            rng.standard_normal(out=z)
        else:
            z = rng.standard_normal((3, k))
        for e in range(extra):
            rng.random(out=x[e])
        yield (u, z) + tuple(x[e] for e in range(extra))


def _check_charge(charge):
    if charge not in (0, 1, -1):
        raise ParameterError(f"W charge must be +1, -1 or 0 (both), got {charge!r}")


def sample_from_uniforms(source, u, z, charge: int = 0, n_generated: int = 0) -> WSample:
    """A :class:`WSample` from pre-drawn uniforms u (k, 11) and normals z (3, k) (see :func:`draw_chunks`)."""
    from . import _w_kernels as kern

    _check_charge(charge)
    k = u.shape[0]
    out = {key: np.empty(k, np.int8 if key in ("q", "qdir") else float) for key in _KEYS}
    mode = 1 if source.boson == "Z" else int(charge)
    kern.sample_w(u, mode, *kernel_source_args(source), wd.PROPOSAL_UNIFORM, *(out[key] for key in _KEYS))
    truth = {key: out[key] for key in ("m", "y", "pt", "phi", "cos_q", "phi_cs", "e_dens", "o_dens")}
    truth.update(charge=out["q"], qdir=out["qdir"])
    return WSample(k, source.sigma_lnu(charge), truth, (out["kE"], out["kx"], out["ky"], out["kz"]),
                   z[0], (z[1], z[2]), source.mass_width[0], n_generated or k)


def concatenate(samples) -> WSample:
    """One WSample from chunks (same source and charge set)."""
    if len(samples) == 1:
        return samples[0]
    s0 = samples[0]
    cat = np.concatenate
    truth = {k: cat([s.truth[k] for s in samples]) for k in s0.truth}
    n = sum(s.n for s in samples)
    return WSample(n, s0.sigma, truth, tuple(cat([s.k[i] for s in samples]) for i in range(4)),
                   cat([s.z_lep for s in samples]), tuple(cat([s.z_rec[i] for s in samples]) for i in range(2)),
                   s0.mw_ref, n)


def generate_sample(source, n: int, rng: np.random.Generator, charge: int = 0) -> WSample:
    """Draw n W bosons from ``source`` (a :class:`~nudmsim.sources.pp.PPSource`), their decay directions and the
    detector normals (numba kernel over pre-drawn PCG64 random numbers, :func:`draw_chunks`; same physics as
    ``source.sample`` + ``w_decay``)."""
    _check_charge(charge)
    return concatenate([sample_from_uniforms(source, u, z, charge) for u, z in draw_chunks(int(n), rng)])


def fused_events(source, resp, flavour, u, z, u_choice, charge, m4, u2):
    """The ``w-lepton`` events of one chunk straight from the random numbers (one numba pass, no truth arrays):
    dict with is_nu4, pt_true, pt, met, mt, ut, selected, w_decay, total (= 1 - U2 + U2 (1 - r)^2 (1 + r/2))."""
    from . import _w_kernels as kern

    _check_charge(charge)
    k = u.shape[0]
    out = {key: np.empty(k, np.bool_ if key in ("is_nu4", "selected") else float)
           for key in ("is_nu4", "pt_true", "pt", "met", "mt", "ut", "selected", "w_decay", "total")}
    mode = 1 if source.boson == "Z" else int(charge)
    kern.events_fused(u, z, u_choice, mode, *kernel_source_args(source), wd.PROPOSAL_UNIFORM, float(m4),
                      float(u2), *response_arrays(resp, flavour), out["is_nu4"], out["pt_true"], out["pt"],
                      out["met"], out["mt"], out["ut"], out["selected"], out["w_decay"], out["total"])
    return out


def response_arrays(resp: col.ColliderResponse, flavour: str):
    """(lres, lpar, gaps, rec, sel) arrays of the numba kernels for one lepton flavour (|eta| values as sinh|eta|)."""
    lres, lpar, gaps = resp.lepton(flavour).kernel_arrays()
    lres[:, 0] = np.sinh(lres[:, 0])
    lpar[1] = np.sinh(lpar[1])
    gaps = np.sinh(gaps)
    rec = np.array([resp.recoil_s0, resp.recoil_k])
    sel = np.array([resp.selection.pt_min, resp.selection.met_min, resp.selection.mt_min, resp.selection.ut_max])
    return lres, lpar, gaps, rec, sel


def reconstruct(s: WSample, resp: col.ColliderResponse, flavour: str, m4, smear: bool = True):
    """Observables of every event for neutrino mass m4 [MeV] (a number, or one per event): dict with true
    lepton pt, reco pt, met, mt, ut, selected (bool), the decay weight (lepton density / proposal, 0 where
    m4 >= M) and the phase-space factor.  ``smear=False`` gives the truth-level values (numpy reference path)."""
    if not smear:
        return reconstruct_numpy(s, resp, flavour, m4, smear=False)
    from . import _w_kernels as kern

    n = s.n
    t = s.truth
    o = [np.empty(n) for _ in range(5)] + [np.empty(n, np.bool_), np.empty(n), np.empty(n)]
    m4 = np.broadcast_to(np.asarray(m4, float), (n,))
    kern.reconstruct(t["m"], t["pt"], t["phi"], t["charge"], t["cos_q"], t["e_dens"], t["o_dens"], *s.k, s.z_lep,
                     *s.z_rec, s.scale(), np.ascontiguousarray(m4), *response_arrays(resp, flavour),
                     wd.PROPOSAL_UNIFORM, *o)
    return dict(zip(("pt_true", "pt", "met", "mt", "ut", "selected", "w_decay", "phase_space"), o))


def reconstruct_numpy(s: WSample, resp: col.ColliderResponse, flavour: str, m4: float, smear: bool = True):
    """Numpy reference implementation of :func:`reconstruct` (built from the physics modules)."""
    d = s.derived()
    lr = resp.lepton(flavour)
    t = s.truth
    m = t["m"]
    ps = wd.p_star(m, m4)
    pt = ps * d["kt"] * s.scale()
    r = (m4 / m) ** 2
    wdec = wd.decay_weight_eo(t["e_dens"], t["o_dens"], t["cos_q"], r, t["charge"])
    ptr = col.smear_lepton_pt(lr, pt, d["eta"], s.z_lep) if smear else pt
    ux, uy = col.recoil(resp, d["wpx"], d["wpy"], *s.z_rec) if smear else (-d["wpx"], -d["wpy"])
    lpx, lpy = ptr * d["cphi"], ptr * d["sphi"]
    met, mt = col.met_mt(lpx, lpy, ux, uy)
    ut = np.hypot(ux, uy)
    sel = col.select(resp.selection, ptr, met, mt, ut, lr.accepted(d["eta"])) & (r < 1.0)
    return {"pt_true": pt, "pt": ptr, "met": met, "mt": mt, "ut": ut, "selected": sel, "w_decay": wdec,
            "phase_space": wd.phase_space_factor(r)}


@dataclass
class Templates:
    """Lepton-p_T templates (expected events per bin in the exposure) for one flavour."""

    edges: np.ndarray
    light: np.ndarray
    light_var: np.ndarray          # sum of squared weights (MC statistics)
    heavy: np.ndarray | None = None
    heavy_var: np.ndarray | None = None


def event_weight(s: WSample, resp: col.ColliderResponse, flavour: str, charges=(1, -1)):
    """Expected events per generated event in the card's exposure (x lepton efficiency), per charge set."""
    lr = resp.lepton(flavour)
    w = s.sigma * resp.luminosity[flavour] * lr.efficiency / s.n_generated
    return np.where(np.isin(s.truth["charge"], charges), w, 0.0)


@dataclass
class CompactSample:
    """Preselected events with the m_4-independent quantities the template kernel needs (one flavour)."""

    flavour: str
    resp_id: int
    arrays: dict
    n_generated: int
    sigma: float
    _tcache: dict = field(default_factory=dict, repr=False)


def preselect(s: WSample, resp: col.ColliderResponse, flavour: str, pt_lo: float, margin: float = 0.97):
    """Events that can enter the p_T window for some m_4 >= 0 (the lepton p_T only falls with m_4), in the
    compact form used by :func:`templates`."""
    from . import _w_kernels as kern

    if s.xscale is not None:
        raise ValueError("preselect: the template path serves W -> l nu samples (xscale = 1)")
    n = s.n
    names = ("kt", "cosh_eta", "aeta", "cphi", "sphi", "ux", "uy")
    o = {k: np.empty(n) for k in names}
    keep = np.empty(n, np.bool_)
    t = s.truth
    kern.prepare(t["m"], t["pt"], t["phi"], *s.k, s.z_lep, *s.z_rec, *response_arrays(resp, flavour),
                 margin * pt_lo, *(o[k] for k in names), keep)
    arrays = {k: v[keep] for k, v in o.items()}
    arrays.update(m=t["m"][keep], q=t["charge"][keep], cos_q=t["cos_q"][keep], e_dens=t["e_dens"][keep],
                  o_dens=t["o_dens"][keep], zl=s.z_lep[keep])
    return CompactSample(flavour, id(resp), arrays, s.n_generated, s.sigma)


def templates(s: CompactSample, resp, flavour, m4, edges, weight, heavy=True) -> Templates:
    """Light-nu template (m_4 = 0 kinematics and density) and, if heavy, the nu_4 template with the phase-space
    factor (1 - r)^2 (1 + r/2) per event (r = m_4^2/M^2 of that event's W mass).
    ``s`` is a :class:`CompactSample` from :func:`preselect` with the same response and flavour."""
    from . import _w_kernels as kern

    if s.flavour != flavour or s.resp_id != id(resp):
        raise ValueError("templates: the compact sample was preselected for another flavour/response")
    nb = len(edges) - 1
    lo, width = float(edges[0]), float(edges[1] - edges[0])
    lres, lpar, _, _, sel = response_arrays(resp, flavour)
    a = s.arrays

    def hist(m4_, with_ps):
        h, h2 = np.zeros(nb), np.zeros(nb)
        kern.histogram_compact(a["m"], a["kt"], a["cosh_eta"], a["aeta"], a["cphi"], a["sphi"], a["ux"], a["uy"],
                               a["q"], a["cos_q"], a["e_dens"], a["o_dens"], a["zl"], weight, float(m4_), lres,
                               lpar, sel, wd.PROPOSAL_UNIFORM, with_ps, lo, width, h, h2)
        return h, h2

    key = ("light", tuple(edges), id(weight))
    if key not in s._tcache:
        s._tcache[key] = hist(0.0, False)
    light = s._tcache[key]
    t = Templates(np.asarray(edges), light[0], light[1])
    if heavy:
        t.heavy, t.heavy_var = hist(float(m4), True)
    return t


def compact_weight(s: CompactSample, resp: col.ColliderResponse, charges=(1, -1)):
    """Per-event weight (expected events x efficiency per generated event) of a compact sample."""
    lr = resp.lepton(s.flavour)
    w = s.sigma * resp.luminosity[s.flavour] * lr.efficiency / s.n_generated
    return np.where(np.isin(s.arrays["q"], charges), w, 0.0)


def stream_spectra(source, resp: col.ColliderResponse, flavour: str, n: int, rng: np.random.Generator,
                   edges, m4: float = 0.0, observable: str = "pt", chunk: int = 1 << 18, charge: int = 0,
                   threads: bool = False):
    """Generate n W events in chunks (fused numba kernel, no per-event arrays), apply the response at neutrino
    mass m4 and accumulate the selected ``observable`` ("pt", "met" or "mt") histogram weighted by the decay
    shape (x phase space for m4 > 0): the high-throughput path (``benchmarks/bench_w.py``).  Returns
    (sum of weights, sum of squared weights) per bin; multiply by sigma K L eff / n for expected events.
    ``threads=True`` runs the kernel on the numba threads (same random numbers, same result up to rounding)."""
    from . import _w_kernels as kern

    src_args = kernel_source_args(source)
    rargs = response_arrays(resp, flavour)
    obs = {"pt": 1, "met": 2, "mt": 3}[observable]
    u = np.empty((chunk, kern.N_UNIFORMS))
    z = np.empty((3, chunk))
    h = np.zeros(len(edges) - 1)
    h2 = np.zeros(len(edges) - 1)
    lo, width = float(edges[0]), float(edges[1] - edges[0])
    fn = kern.generate_histogram_parallel if threads else kern.generate_histogram
    for a in range(0, n, chunk):
        k = min(n, a + chunk) - a
        rng.random(out=u[:k])
        if k == chunk:
            zz = z
            rng.standard_normal(out=zz)
        else:
            zz = rng.standard_normal((3, k))
        fn(u[:k], zz, int(charge), *src_args, wd.PROPOSAL_UNIFORM, float(m4), *rargs, m4 > 0, obs, lo, width, h, h2)
    return h, h2
