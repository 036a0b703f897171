"""The walk-through of docs/cards.md runs as written: its example card loads, predicts the numbers the page
quotes, and gives a projected limit; the card in the page's code blocks is the card in docs/examples/."""
import re
from pathlib import Path

import numpy as np
import pytest

from nudmsim.experiment import Experiment
from nudmsim.runner import limit_point, limit_settings

DOCS = Path(__file__).resolve().parent.parent / "docs"
CARD = DOCS / "examples" / "ge_sns_projection.toml"


@pytest.fixture(scope="module")
def exp():
    return Experiment.load(str(CARD))


def test_quoted_prediction_matches(exp):
    page = (DOCS / "cards.md").read_text()
    quoted = {k: float(v) for k, v in re.findall(r"#\s+(interactions \(before any response\)|in the observables, "
                                                  r"after the response)\s+([0-9.]+) events", page)}
    ex = exp.expected("cevns")
    assert quoted["interactions (before any response)"] == pytest.approx(ex.interactions, rel=1e-3)
    assert quoted["in the observables, after the response"] == pytest.approx(ex.total, rel=1e-3)


def test_code_blocks_are_the_example_card():
    """Every key = value line of the page's TOML blocks appears in the example card (comments aside)."""
    page = (DOCS / "cards.md").read_text()
    card = {ln.split("#")[0].strip() for ln in CARD.read_text().splitlines()}
    blocks = re.findall(r"```toml\n(.*?)```", page, re.S)
    i = page.index("## Walk-through")
    lines = [ln.split("#")[0].strip() for b in re.findall(r"```toml\n(.*?)```", page[i:], re.S) for ln in b.splitlines()]
    assert blocks and lines
    missing = [ln for ln in lines if ln and ln not in card]
    assert not missing, missing


def test_projected_limit_is_finite_and_below_the_signal_scale(exp):
    r = limit_point((str(exp.card.path), 10.0, 3.0, True, limit_settings(exp, {}), {}))
    assert np.isfinite(r["expected"]) and r["expected"] > 0
    # the Asimov limit sits where the signal is a few sigma of the background + CEvNS counting error
    from nudmsim.models import planes

    pt = planes.get("sigma_nc").point(10.0, 3.0, {})
    s = exp.expected("nu-to-x", pt).total * r["expected"] / r["y_ref"]
    b = exp.expected("cevns").total
    assert 0.5 * np.sqrt(b) < s < 0.35 * b


def test_readme_api_example_runs_and_quotes_the_validated_numbers():
    """The README's Python API block runs as written; the numbers it and the quick tour quote are the
    engine's (the 2017 SM prediction and fit, the relic abundance), so the README cannot drift from the code."""
    readme = (DOCS.parent / "README.md").read_text()
    block = re.findall(r"```python\n(from nudmsim import cards\n.*?)```", readme, re.S)[0]
    ns: dict = {}
    exec(compile(block, "README.md", "exec"), ns)
    exp = ns["exp"]
    assert ns["sm"].total == pytest.approx(float(re.search(r"# ([0-9.]+) SM events after acceptance", readme)[1]),
                                           abs=0.05)
    assert ns["x"].total > 0 and len(ns["events"].events) == 10**6
    fit = ns["fit_measurement"](exp)
    quoted_fit = float(re.search(r"The fitted CEvNS count is ([0-9.]+)", readme)[1])
    assert fit.value == pytest.approx(quoted_fit, abs=0.05)
    assert ns["relic_abundance"](100e3, 2.2e-26 * ns["CM3_PER_S"]) == pytest.approx(
        float(re.search(r"Omega h\^2 = ([0-9.]+) \(Majorana", readme)[1]), abs=5e-4)
