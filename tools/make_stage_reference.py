"""Regenerate docs/response_stages.md from the registered response stages (their docs and schemas).

    python tools/make_stage_reference.py [--check]

``--check`` exits 1 when the page is stale instead of writing it (tests/test_response_stages_cards.py
runs the same comparison).  The lead's card reference can include the stage part with
``nudmsim.response.reference.stage_reference(level)``.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nudmsim.io import atomic_output  # noqa: E402
from nudmsim.response.reference import document  # noqa: E402

DOC = ROOT / "docs" / "response_stages.md"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = document()
    if "--check" in argv:
        current = DOC.read_text() if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is stale: run python tools/make_stage_reference.py", file=sys.stderr)
            return 1
        return 0
    with atomic_output(DOC) as tmp:
        Path(tmp).write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
