"""Thin command-line layer over the library (``nudmsim --help``)."""
from .main import main, run  # noqa: F401
