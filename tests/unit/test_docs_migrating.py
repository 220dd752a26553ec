"""docs/migrating.md tells the truth: each difference it lists cites tests, and they exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "migrating.md"
# `tests/x.py::name`, `tests/x.py::Class::name`, or `::name` (in the file cited last).
CITATION = re.compile(r"`(tests/[\w/]+\.py)?((?:::\w+)+)`")


def citations(text: str) -> list[tuple[str, str]]:
    """Every (file, test name) the text cites, a bare `::name` taking the file cited before it."""
    found = []
    current = None
    for match in CITATION.finditer(text):
        current = match[1] or current
        assert current is not None, f"{match[0]} cites no file"
        found.append((current, match[2].rsplit("::", 1)[-1]))
    return found


def test_every_test_the_migration_guide_cites_exists() -> None:
    """A renamed or deleted test makes the guide's claim unbacked: this fails then."""
    cited = citations(PAGE.read_text(encoding="utf-8"))
    assert len(cited) >= 30
    for file, name in cited:
        source = (ROOT / file).read_text(encoding="utf-8")
        assert re.search(rf"def {name}\(", source), f"{file}::{name} does not exist"


def test_each_difference_section_names_its_tests() -> None:
    """Every paragraph that starts with a bold claim is followed by a *Tested by* line."""
    text = PAGE.read_text(encoding="utf-8")
    claims = re.split(r"\n\n(?=\*\*)", text)[1:]
    assert len(claims) >= 25
    unbacked = [c.split("**")[1] for c in claims if "*Tested by*" not in c]
    assert unbacked == []
