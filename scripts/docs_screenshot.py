"""Draw docs/images/notebook-result.png: a promotion's notebook view, rendered by Chromium.

The picture on docs/what-you-see.md is our own output: `render_html.result_html` of a decision
with a fold-score rule, drawn headless (Debian: ``apt-get install chromium``). Run it from the
repository root after changing the notebook view:

    PYTHONPATH=src python scripts/docs_screenshot.py
"""

# A script that writes one file, not a package.
# ruff: noqa: INP001

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from aml_promotion import Goal, MetricRule, PromotionPolicy, Significance, decide
from aml_promotion._domain import render, render_html

OUT = Path("docs/images/notebook-result.png")


def fragment() -> str:
    """Return the HTML a notebook shows for a promotion of a better model."""
    policy = PromotionPolicy(
        rules=[
            MetricRule(name="auc", goal=Goal.MAXIMIZE),
            MetricRule(name="log_loss", goal=Goal.MINIMIZE),
            MetricRule(
                name="f1_fold", goal=Goal.MAXIMIZE, aggregate="mean", significance=Significance()
            ),
        ]
    )
    decision = decide(
        {"auc": 0.871, "log_loss": 0.352, "f1_fold": [0.80, 0.82, 0.85, 0.81, 0.84]},
        {"auc": 0.842, "log_loss": 0.401, "f1_fold": [0.78, 0.80, 0.80, 0.79, 0.80]},
        policy,
        candidate_label="run 3f2c9a in experiment churn-training",
        baseline_label="churn:4 (run 9b1e07)",
    )
    view = render.ResultView(
        model_name="churn",
        model_version=5,
        model_id="churn:5",
        champion="@champion",
        champion_version=5,
    )
    return render_html.result_html(decision, view)


def main() -> None:
    """Write the PNG."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("needs Chromium (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "page.html"
        page.write_text(
            '<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:12px;'
            f'font-family:sans-serif;font-size:14px">{fragment()}</body></html>',
            encoding="utf-8",
        )
        OUT.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 - the system's Chromium, on our own page
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
                f"--user-data-dir={Path(scratch) / 'profile'}", f"--screenshot={OUT.resolve()}",
                "--window-size=900,380", page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )  # fmt: skip
    print(f"wrote {OUT}")  # noqa: T201 - a script that reports what it did


if __name__ == "__main__":
    main()
