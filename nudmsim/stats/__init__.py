"""Statistics: binned Poisson likelihoods with constrained nuisances (iminuit), profile-likelihood
limits, Asimov sensitivities, and limit-curve containers."""
