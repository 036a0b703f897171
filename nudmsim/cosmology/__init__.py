"""Cosmology constraints: relic abundance, kinetic decoupling, DM decay, radiative neutrino mass."""
