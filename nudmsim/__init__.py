"""nudmsim: event-level simulator for neutrino--dark-matter signatures.

Model point -> source -> process (dsigma, dGamma) -> weighted events -> detector response ->
histograms -> likelihood -> fits, limits and scans.  Units: hepunits (MeV, mm, ns).
"""
__version__ = "0.1.0"

from .errors import NudmsimError  # noqa: F401
