"""Where nudmsim finds its cards and data.

In a source checkout (or editable install) the top-level folders ``detectors/``, ``fluxes/`` and ``data/``
are used; an installed wheel carries copies under ``nudmsim/_resources/``.  ``NUDMSIM_CARD_PATH``
(os.pathsep-separated folders) is searched first, so users can add their own cards without code.
"""
from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(kind: str) -> Path:
    """Folder for ``kind`` in {"detectors", "fluxes", "data"}."""
    for base in (_PKG.parent / kind, _PKG / "_resources" / kind):
        if base.is_dir():
            return base
    return _PKG.parent / kind


def search_dirs(kind: str) -> list[Path]:
    extra = [Path(p) for p in os.environ.get("NUDMSIM_CARD_PATH", "").split(os.pathsep) if p]
    return extra + [resource_dir(kind)]


def data_file(*parts: str) -> Path:
    """Path of a file under ``data/`` (published results with provenance headers)."""
    return resource_dir("data").joinpath(*parts)


def flux_file(*parts: str) -> Path:
    """Path of a file under ``fluxes/``."""
    return resource_dir("fluxes").joinpath(*parts)
