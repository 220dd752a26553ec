"""Every public registermodel.json, end to end through ``aml-promote`` on an MLflow sqlite store.

For each of the 28 files in ``shared/corpus/registermodel/`` (real users' settings for the
original action; EXPECTED.md says what loading each must do), as a migrating user would run it:

- a file that does not load exits 2 and registers nothing;
- otherwise the first run registers version 1;
- without metric rules (21 of the 26 valid files), a second, different run registers version 2,
  as the original action did (no gate), with a notice suggesting ``metrics_max``/``metrics_min``;
- with metric rules, a worse run is rejected (exit 1, nothing registered) and a better one
  registers version 2;
- re-running the last registered run registers nothing new ("already registered", exit 0).

The bulk runs in-process (`run()`, which `main()` calls, on the real MLflow backend); two files
also run as real ``python -m aml_promotion`` subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import attrs
import pytest

from aml_promotion import Goal, Settings, load_settings
from aml_promotion._domain.model_files import normalize
from aml_promotion._github import default_model_name, parse_outputs
from aml_promotion.exceptions import SettingsWarning
from compat.support import PYTESTMARK, Outcome, Promote, Store, write_settings

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

pytestmark = PYTESTMARK

_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "registermodel"
CORPUS = Path(os.environ.get("AML_PROMOTION_CORPUS", "") or _DEFAULT)

if not CORPUS.is_dir():
    pytest.skip(
        f"the settings corpus is not there ({CORPUS}): copy shared/ beside the repository, or "
        "name its registermodel folder in AML_PROMOTION_CORPUS",
        allow_module_level=True,
    )

FILES = sorted(path.name for path in CORPUS.glob("*.json"))
# What EXPECTED.md says cannot load: placeholders, a metric in both lists, broken JSON.
DOES_NOT_LOAD = {
    "Azure__aml-registermodel.json",
    "MynherVanKoek__aml-template.json",
    "berndverst__mlops-kubeflow-aml.json",
    "buozuer__mlops.json",
}
# Unknown keys EXPECTED.md says are warned about.
WARNS = {
    "mhelb__mlops-r-gha.json": "webservice_name",
    "revodavid__mlops-r-gha.json": "webservice_name",
}
# (first, worse, better) values for a metric, by its goal.
VALUES = {Goal.MAXIMIZE: (0.80, 0.70, 0.90), Goal.MINIMIZE: (0.30, 0.40, 0.20)}


def test_the_corpus_is_all_there() -> None:
    """28 files, the 4 that cannot load among them: the suite below covers every one."""
    assert len(FILES) == 28
    assert set(FILES) >= DOES_NOT_LOAD


@attrs.frozen
class Case:
    """One corpus file, and what a migrating user's workflow would give the command line."""

    file: str
    settings: Settings
    raw: dict[str, object]
    env: dict[str, str]

    @property
    def model_name(self) -> str:
        name = self.settings.model_name or default_model_name(self.env)
        assert name is not None
        return name

    @property
    def run_files(self) -> list[str]:
        """Where the training run saved the model, as the file's model_file_name implies."""
        wanted = self.settings.model_file_name
        path = normalize(wanted)
        if wanted.rstrip().endswith("/"):
            return [f"{path}/MLmodel", f"{path}/model.bin"]
        return [path] if "/" in path else [f"outputs/{path}"]

    @property
    def step(self) -> str | None:
        """A pipeline's step name, when the file names one (the model is in that child run)."""
        return (
            self.settings.pipeline_child_run_name if "pipeline_child_run_name" in self.raw else None
        )

    def metrics(self, which: int) -> dict[str, float]:
        return {rule.name: VALUES[rule.goal][which] for rule in self.settings.policy.rules}


def case_for(file: str, github: dict[str, str]) -> Case:
    path = CORPUS / file
    owner, repository = file.removesuffix(".json").split("__", 1)
    env = {
        **github,
        "GITHUB_REPOSITORY": f"{owner}/{repository}",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SettingsWarning)  # checked through the CLI below
        settings = load_settings(path)
    raw = json.loads(path.read_text(encoding="utf-8-sig"))
    return Case(file=file, settings=settings, raw=raw, env=env)


@pytest.fixture
def github(tmp_path: Path) -> dict[str, str]:
    """GitHub Actions' variables for the step: workflow commands, outputs and summary files."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary"),
    }


def outputs(github: dict[str, str]) -> dict[str, str]:
    return parse_outputs(Path(github["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))


def promote_run(promote_cli: Promote, case: Case, run_id: str) -> Outcome:
    return promote_cli("--experiment-name", "train", "--run-id", run_id, env=case.env)


def versions(store: Store, case: Case) -> list[int]:
    return [int(v.version) for v in store.versions(case.model_name)]


@pytest.mark.parametrize("file", sorted(DOES_NOT_LOAD))
def test_a_file_that_does_not_load_exits_2_and_registers_nothing(
    file: str,
    checkout: Path,
    store: Store,
    promote_cli: Promote,
    github: dict[str, str],
) -> None:
    """Placeholders, a metric in both lists, broken JSON: bad input, named; nothing registered."""
    write_settings(checkout, (CORPUS / file).read_bytes())
    run_id = store.add_run(["outputs/model.pkl"], {"Accuracy": 0.9})
    done = promote_cli("--experiment-name", "train", "--run-id", run_id, env=github)
    assert done.code == 2, done.explain()
    assert "registermodel.json" in done.stderr
    assert "::error title=aml-promote%3A bad input" in done.stderr
    assert store.client.search_registered_models() == []


@pytest.mark.parametrize("file", [f for f in FILES if f not in DOES_NOT_LOAD])
def test_each_file_registers_as_the_original_did_and_gates_when_it_has_rules(
    file: str,
    checkout: Path,
    store: Store,
    promote_cli: Promote,
    github: dict[str, str],
) -> None:
    """First run in; then without rules a second run in, with rules worse out and better in."""
    case = case_for(file, github)
    write_settings(checkout, (CORPUS / file).read_bytes())
    first = store.add_run(case.run_files, case.metrics(0), step=case.step)

    done = promote_run(promote_cli, case, first)
    assert done.code == 0, done.explain()
    assert versions(store, case) == [1]
    assert outputs(github)["model_name"] == case.model_name
    assert outputs(github)["model_version"] == "1"
    if file in WARNS:
        assert WARNS[file] in done.stderr
    else:
        assert "::warning" not in done.stderr

    if not case.settings.policy.rules:
        assert "::notice title=No metric rules" in done.stderr
        second = store.add_run(case.run_files, step=case.step)
        done = promote_run(promote_cli, case, second)
        assert done.code == 0, done.explain()
        assert "no metric rules: registered without comparison" in done.stdout
        last = second
    else:
        worse = store.add_run(case.run_files, case.metrics(1), step=case.step)
        done = promote_run(promote_cli, case, worse)
        assert done.code == 1, done.explain()
        assert versions(store, case) == [1]
        assert outputs(github)["promoted"] == "false"
        better = store.add_run(case.run_files, case.metrics(2), step=case.step)
        done = promote_run(promote_cli, case, better)
        assert done.code == 0, done.explain()
        last = better
    assert versions(store, case) == [1, 2]
    assert outputs(github)["model_version"] == "2"

    again = promote_run(promote_cli, case, last)
    assert again.code == 0, again.explain()
    assert "Already registered from this run" in again.stdout
    assert versions(store, case) == [1, 2]


@pytest.mark.parametrize("file", ["marvinbuss__mlops.json", "buozuer__mlopsnew.json"])
def test_as_a_real_process_the_first_run_registers_and_a_second_follows_the_rules(
    file: str, checkout: Path, store: Store, tmp_path: Path
) -> None:
    """``python -m aml_promotion`` as the action runs it: the exit codes the workflow sees."""
    case = case_for(file, {})
    write_settings(checkout, (CORPUS / file).read_bytes())
    home = tmp_path / "home"
    home.mkdir()
    kept = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "LANG", "TMPDIR") if k in os.environ}
    env = {**kept, **case.env, "HOME": str(home), "PYTHONIOENCODING": "utf-8"}

    def cli(run_id: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aml_promotion", "--backend", "mlflow", "--tracking-uri",
             store.uri, "--experiment-name", "train", "--run-id", run_id],
            cwd=checkout, env=env, capture_output=True, text=True, encoding="utf-8",
            timeout=120, check=False,
        )  # fmt: skip

    first = cli(store.add_run(case.run_files, case.metrics(0)))
    assert first.returncode == 0, first.stderr
    second = cli(store.add_run(case.run_files, case.metrics(1)))
    # With rules the second run is worse: rejected, exit 1; without, it is registered.
    expected = 1 if case.settings.policy.rules else 0
    assert second.returncode == expected, second.stderr
    assert versions(store, case) == ([1] if expected else [1, 2])
