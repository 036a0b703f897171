"""The documentation builds into a site with an API reference from the docstrings, warnings as errors."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mkdocs_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    site = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                          "-d", str(site)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "WARNING" not in out.stderr
    api = (site / "api" / "registry" / "index.html").read_text()
    assert "LimitRequest" in api and "get_analysis" in api          # rendered from the docstrings
    assert (site / "figures" / "index.html").is_file() and (site / "scans" / "index.html").is_file()
    shutil.rmtree(site)
