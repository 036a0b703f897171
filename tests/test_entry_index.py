"""nudmsim/entry_index.py (which module registers each name) is exact: a command that imports only the indexed
module finds its entry, and the file equals what tools/make_entry_index.py writes from a full import."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

from card_helpers import ROOT


def test_index_is_current():
    spec = importlib.util.spec_from_file_location("make_entry_index", ROOT / "tools" / "make_entry_index.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    current = (ROOT / "nudmsim" / "entry_index.py").read_text()
    assert mod.build() == current, "nudmsim/entry_index.py is stale: run python tools/make_entry_index.py"


def test_one_module_registers_each_name_and_others_stay_unimported():
    # a fresh interpreter: looking up cevns imports the coherent registrations, not the meson or W analyses
    code = ("import sys\nfrom nudmsim import registry\n"
            "e = registry.get_process('cevns')\n"
            "assert e.name == 'cevns'\n"
            "a = registry.get_analysis('xenon1t-si')\n"
            "assert a.name == 'xenon1t-si'\n"
            "print(sorted(m for m in sys.modules if m.startswith('nudmsim.analyses.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out.strip().splitlines()[-1])
    assert "nudmsim.analyses.coherent" in loaded and "nudmsim.analyses.direct_detection" in loaded
    assert "nudmsim.analyses.meson" not in loaded and "nudmsim.analyses.w_boson" not in loaded


def test_unknown_name_still_gets_a_suggestion():
    import pytest

    from nudmsim import registry
    from nudmsim.errors import NudmsimError

    with pytest.raises(NudmsimError, match="unknown process 'cevnss'.*did you mean 'cevns'"):
        registry.get_process("cevnss")
