"""The worked examples of docs/deciding-under-noise.md show what the library prints today.

The page follows the conventions of docs/decisions.md (see test_docs_decisions.py). After
changing the rendering or a rule, regenerate the outputs with:

    python tests/unit/test_docs_noise.py --update
"""

from __future__ import annotations

import sys
from pathlib import Path

from test_docs_decisions import EXAMPLE, rendered

PAGE = Path(__file__).resolve().parents[2] / "docs" / "deciding-under-noise.md"


def test_the_page_has_worked_examples() -> None:
    """The page holds examples of both guards, each with its output."""
    assert len(EXAMPLE.findall(PAGE.read_text(encoding="utf-8"))) >= 6


def test_every_example_prints_what_the_page_shows() -> None:
    """Running the examples reproduces the page exactly (regenerate with --update)."""
    page = PAGE.read_text(encoding="utf-8")
    assert rendered(page) == page


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    PAGE.write_text(rendered(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
