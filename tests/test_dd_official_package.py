"""Second method for the XENON1T SI limits: the collaboration's own package (PyPI ``xe-likelihood``, the code
released with arXiv:2210.07231) evaluated on nudmsim's SI spectrum must give nudmsim's limit.

This is the restated XENON1T criterion (issue 8 part 9): agreement with the package within 2% at every
official mass.  It also pins down the 10 GeV point: the official package itself gives 1.56x the published
full-likelihood limit there, so that deviation belongs to the released binwise approximation, not to
nudmsim (docs/direct_detection.md)."""
import os

import numpy as np
import pytest

if os.environ.get("CI"):
    import xe_likelihood  # noqa: F401  (installed by the test extra: absence is a failure in CI)
pytest.importorskip("xe_likelihood")

from nudmsim.validation.direct_detection import (official_package_limit, package_ratios,  # noqa: E402
                                                 package_spectrum, si_limits)


@pytest.mark.parametrize("m_gev", [10.0, 30.0])
@pytest.mark.parametrize("asymptotic", [False, True])
def test_official_package_gives_our_limit(m_gev, asymptotic):
    official = official_package_limit(package_spectrum(m_gev), asymptotic) * 1e-45
    _, ours, _ = si_limits([m_gev], method="delta-chi2" if asymptotic else "table")
    # both integrate the same spectrum over the same bins; differences are interpolation grids only
    assert ours[0] == pytest.approx(official, rel=0.01)


def test_within_2_percent_of_the_package_at_every_official_mass():
    m, r = package_ratios()
    assert len(m) == 16 and m[0] == 6.0 and m[-1] == 10000.0
    assert np.all(np.abs(r - 1) < 0.02), dict(zip(m, r))


def test_the_10GeV_point_is_the_release_not_nudmsim():
    """At 10 GeV both nudmsim and the package are ~1.56x the published full-likelihood curve: the criterion
    "within 25% of the official curve at 10 GeV" cannot be met with the released tables (issue 3 note)."""
    m, ours, published = si_limits([10.0])
    package = official_package_limit(package_spectrum(10.0)) * 1e-45
    assert package / published[0] > 1.4 and ours[0] == pytest.approx(package, rel=0.02)
