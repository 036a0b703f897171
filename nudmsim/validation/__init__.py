"""Validation checks, one per published number (``nudmsim validate``).  Each module registers checks
with :func:`nudmsim.registry.check`; modules here are imported by :func:`nudmsim.registry.load_all`."""
