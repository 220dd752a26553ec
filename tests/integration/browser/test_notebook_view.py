"""The notebook view in a real browser: headless Chromium renders the HTML, the pixels are read.

What a person sees in Jupyter is the `_repr_html_` fragment drawn by a browser: these tests draw
it with Chromium (Debian's ``chromium`` package) and check the verdict badge's colour in the
screenshot, so a badge that only reads with an emoji font, or that a browser does not colour,
fails. Skipped when no Chromium is installed (``nox -s browser`` runs them).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aml_promotion import Goal, MetricRule, PromotionPolicy, Significance, decide
from aml_promotion._domain import render, render_html
from pngread import Image, read_png

pytestmark = pytest.mark.browser

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
if CHROMIUM is None:
    pytest.skip("needs Chromium (Debian: apt-get install chromium)", allow_module_level=True)

# Off everything that would reach the network or keep state: the test is a file on disk.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
WIDTH, HEIGHT = 900, 420
TOLERANCE = 12


def screenshot(fragment: str, tmp_path: Path, name: str) -> Image:
    """Draw `fragment` (in a plain page, as a notebook's output cell holds it) and read it back."""
    page = tmp_path / f"{name}.html"
    page.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"></head>'
        f'<body style="background:#ffffff;margin:16px">{fragment}</body></html>',
        encoding="utf-8",
    )
    png = tmp_path / f"{name}.png"
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}",
            f"--window-size={WIDTH},{HEIGHT}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return read_png(png.read_bytes())


def rgb(colour: str) -> tuple[int, int, int]:
    value = int(colour.removeprefix("#"), 16)
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


def count(image: Image, colour: str, *, top: int | None = None) -> int:
    """Count the pixels of `colour` (within a small tolerance), in the `top` rows if given."""
    want = rgb(colour)
    return sum(
        1
        for _, y, r, g, b in image.pixels()
        if (top is None or y < top)
        and max(abs(r - want[0]), abs(g - want[1]), abs(b - want[2])) <= TOLERANCE
    )


AUC = MetricRule(name="auc", goal=Goal.MAXIMIZE)
F1 = MetricRule(name="f1", goal=Goal.MAXIMIZE, aggregate="mean", significance=Significance())
# The badge is at least this many pixels of its colour (a word in bold on a 2×10 px padded box).
BADGE_PIXELS = 600


def test_a_rejection_shows_a_red_badge_and_no_green_one(tmp_path: Path) -> None:
    """REJECT: a red badge in the first line; no green badge anywhere."""
    decision = decide(
        {"auc": 0.7}, {"auc": 0.8}, PromotionPolicy(rules=[AUC]), candidate_label="run 7"
    )
    image = screenshot(decision._repr_html_(), tmp_path, "reject")
    red = render_html.BADGE_COLORS[decision.verdict]
    assert count(image, red, top=60) >= BADGE_PIXELS
    green = render_html.BADGE_COLORS[type(decision.verdict).PROMOTE]
    # The table's "pass" words are green too: this decision has none, so none at all.
    assert count(image, green) == 0


def test_a_promotion_shows_a_green_badge_the_version_the_champion_and_a_chart(
    tmp_path: Path,
) -> None:
    """PROMOTE of a fold-score rule: a green badge, and the chart's candidate line in blue."""
    decision = decide(
        {"auc": 0.85, "f1": [0.80, 0.82, 0.85, 0.81, 0.84]},
        {"auc": 0.80, "f1": [0.78, 0.80, 0.80, 0.79, 0.80]},
        PromotionPolicy(rules=[AUC, F1]),
        candidate_label="run 8",
        baseline_label="churn:1",
    )
    view = render.ResultView(
        model_name="churn", model_version=2, champion="@champion", champion_version=2
    )
    image = screenshot(render_html.result_html(decision, view), tmp_path, "promote")
    green = render_html.BADGE_COLORS[decision.verdict]
    assert count(image, green, top=60) >= BADGE_PIXELS
    assert count(image, render_html.BADGE_COLORS[type(decision.verdict).REJECT]) == 0
    # The SVG chart is drawn: its candidate line and dots.
    assert count(image, render_html.CANDIDATE_COLOR) >= 100


def test_a_dry_run_shows_an_amber_badge(tmp_path: Path) -> None:
    """A dry run is amber whatever the verdict (nothing was registered)."""
    decision = decide({"auc": 0.9}, {"auc": 0.8}, PromotionPolicy(rules=[AUC]))
    view = render.ResultView(model_name="churn", dry_run=True)
    image = screenshot(render_html.result_html(decision, view), tmp_path, "dry-run")
    assert count(image, render_html.DRY_RUN_COLOR, top=60) >= BADGE_PIXELS
