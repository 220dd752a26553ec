"""The worked examples of docs/decisions.md show what the library prints today.

Each ```python block followed by an ``<!-- output -->`` block (blank lines around its quote,
so that Markdown does not take the quote for part of the HTML comment) is run, in order, in one
namespace; what it prints, quoted, must be the output block. After changing the rendering or a
rule, regenerate the outputs with:

    python tests/unit/test_docs_decisions.py --update
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "decisions.md"
EXAMPLE = re.compile(
    r"```python\n(?P<code>(?:(?!```).)*?)```\n\n"
    r"<!-- output -->\n\n(?P<output>.*?)\n<!-- /output -->",
    re.DOTALL,
)
SETUP = re.compile(r"```python\n(?P<code>from aml_promotion import [^`]*?)```", re.DOTALL)


def quote(printed: str) -> str:
    """Render printed text as the page shows it: a block quote, one paragraph per line.

    A decision's Markdown starts with a "### " heading; on this page it is shown in bold, so
    that the examples do not add headings to the page's table of contents.
    """
    lines: list[str] = []
    previous = ""
    for line in printed.rstrip("\n").split("\n"):
        if line.startswith("### "):
            line = f"**{line.removeprefix('### ')}**"  # noqa: PLW2901 - the rendered line
        plain = bool(line) and not line.startswith(("|", "- "))
        if plain and previous:
            lines.append(">")  # a new paragraph, not a continuation of the previous line
        lines.append(f"> {line}" if line else ">")
        previous = line if plain else ""
    return "\n".join(lines) + "\n"


def rendered(page: str) -> str:
    """Return `page` with every output block replaced by what its example prints now."""
    namespace: dict[str, object] = {}
    setup = SETUP.search(page)
    assert setup is not None, "the page has no import block"
    exec(setup["code"], namespace)  # noqa: S102 - the page's own examples

    def run(example: re.Match[str]) -> str:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(example["code"], namespace)  # noqa: S102
        return (
            f"```python\n{example['code']}```\n\n<!-- output -->\n\n"
            f"{quote(printed.getvalue())}\n<!-- /output -->"
        )

    return EXAMPLE.sub(run, page)


def test_the_page_has_worked_examples() -> None:
    """The page holds a dozen examples, each with its output."""
    assert len(EXAMPLE.findall(PAGE.read_text(encoding="utf-8"))) >= 10


def test_every_example_prints_what_the_page_shows() -> None:
    """Running the examples reproduces the page exactly (regenerate with --update)."""
    page = PAGE.read_text(encoding="utf-8")
    assert rendered(page) == page


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    PAGE.write_text(rendered(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
