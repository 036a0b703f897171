"""Sources: neutrino fluxes (SNS), DM halo, meson beams, pp collisions; each configured by a card in
``fluxes/``."""
