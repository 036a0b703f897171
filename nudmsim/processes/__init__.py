"""Processes: pure functions of kinematics and a model (dsigma/dE_R, dGamma/dx, |M|^2).  Natural units
(MeV); cross sections in MeV^-2 unless a docstring says otherwise (x constants.HBARC**2 -> mm^2)."""
