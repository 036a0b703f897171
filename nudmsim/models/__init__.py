"""Models: map a model point (masses, couplings) to the couplings the processes need."""
