"""hnl-decay generator: energy-momentum conservation in every event (hypothesis), weights sum to the
branching ratios x decay probability, the MC estimate of a 3-body width equals the quadrature, CLI."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nudmsim import constants as c
from nudmsim.errors import NudmsimError
from nudmsim.processes import hnl_events as E
from nudmsim.processes import hnl_widths as W


def _mass(p4):
    return np.sqrt(np.maximum(p4[..., 0] ** 2 - (p4[..., 1:] ** 2).sum(-1), 0))


@settings(max_examples=40, deadline=None)
@given(M=st.floats(2.0, 5000.0), lu=st.floats(-9, -2), flav=st.sampled_from(["e", "mu", "tau"]),
       E_over_M=st.floats(1.0, 200.0), seed=st.integers(0, 2**31))
def test_energy_momentum_conserved_in_every_event(M, lu, flav, E_over_M, seed):
    h = W.HNL(M, **{f"U2_{flav}": 10.0**lu})
    rng = np.random.default_rng(seed)
    cols, total, vis = E.generate_decays(h, 300, rng, energy=M * E_over_M)
    p_sum = np.zeros((300, 4))
    for i in range(1, 4):
        p_sum += np.stack([cols[f"E_{i}"], cols[f"px_{i}"], cols[f"py_{i}"], cols[f"pz_{i}"]], -1)
    p_N = np.stack([cols["E_N"], 0 * cols["E_N"], 0 * cols["E_N"], cols["pz_N"]], -1)
    scale = max(M * E_over_M, 1.0)
    assert np.all(np.abs(p_sum - p_N) < 1e-9 * scale)
    # daughters are on their mass shells (pdg masses; rho/K* have Breit-Wigner masses, so check >= threshold)
    assert np.all(cols["weight"] >= 0) and cols["weight"].sum() == pytest.approx(total, rel=1e-9)
    bvis = sum(ch.width for ch in vis) / h.total_width()
    assert total == pytest.approx(bvis, rel=1e-9)


def test_three_body_mc_width_equals_quadrature():
    """The flat-Dalitz importance weights average to the width: (hi - lo)/N sum w / (256 pi^3 M^3)."""
    rng = np.random.default_rng(11)
    M, m = 1200.0, c.M_MUON
    ch = W.Channel("x", "nu l+ l-", 1.0, (14, 13, -13), (0.0, m, m), "nll", True, W.nc_couplings("mu", "mu"))
    n = 400_000
    _, w = E.sample_channel(ch, M, n, rng)
    mc = w.mean() * ((M - m) ** 2 - m**2) / (256 * math.pi**3 * M**3)   # s12 = (p_nu + p_l-)^2 range
    assert mc == pytest.approx(W.width_nu_ll(M, "mu", "mu"), rel=0.01)


def test_decay_volume_probability_and_vertex_distribution():
    h = W.HNL(1000.0, U2_mu=1e-6)
    E_ = 25000.0
    L = float(h.decay_length(E_))
    z1, z2 = 45e3, 95e3
    rng = np.random.default_rng(5)
    cols, total, vis = E.generate_decays(h, 50_000, rng, energy=E_, z_range_mm=(z1, z2))
    P = math.exp(-z1 / L) - math.exp(-z2 / L)
    bvis = sum(ch.width for ch in vis) / h.total_width()
    assert total == pytest.approx(P * bvis, rel=1e-9)
    z = cols["vertex_z_mm"]
    assert z.min() >= z1 and z.max() <= z2
    # truncated exponential mean
    mean = L + (z1 * math.exp(-z1 / L) - z2 * math.exp(-z2 / L)) / P
    assert z.mean() == pytest.approx(mean, rel=0.01)


def test_no_visible_channel_and_closed_singlet_give_one_line_errors(tmp_path):
    from nudmsim.cli.main import main

    with pytest.raises(NudmsimError, match="no visible decay channel"):
        E.generate_decays(W.HNL(100.0), 10, np.random.default_rng(0))
    rc = main(["generate", "hnl-decay", "--set", "m_N=500", "--set", "g_s=0.1", "--set", "m_s=600",
               "-o", str(tmp_path / "x.root")])
    assert rc == 2


def test_cli_generate_writes_root(tmp_path, capsys):
    from nudmsim.cli.main import main
    from nudmsim.io import read_root

    out = tmp_path / "hnl.root"
    assert main(["generate", "hnl-decay", "--set", "m_N=1500", "--set", "U2_e=1e-6", "-n", "2000",
                 "--seed", "3", "-o", str(out)]) == 0
    ev, meta = read_root(out)
    assert len(ev) == 2000 and meta["process"] == "hnl-decay"
    assert float(np.sum(ev["weight"])) < 1.0
