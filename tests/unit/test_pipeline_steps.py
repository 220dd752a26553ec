"""promote() with the metrics in one pipeline step and the model in another, and job outputs.

Against the public in-memory fakes: `metrics_child_run_name` picks the step whose metrics (and
evaluation data) are compared, `pipeline_child_run_name` the step whose model is registered;
`job_output` is refused by a backend without named outputs, and both settings of a run's parts
by a candidate that is no run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from aml_promotion import Settings, Verdict, load_settings, promote
from aml_promotion.exceptions import (
    ModelFileError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
)
from aml_promotion.ports import RunRecord
from aml_promotion.testing import InMemoryBackend, InMemoryRegistry, InMemoryRunStore

NAME = "churn"


def pipeline(backend: InMemoryBackend, pipeline_id: str, auc: float, **evaluate: Any) -> None:
    """A pipeline `pipeline_id`: a train step with the model, an evaluate step with the AUC."""
    runs = backend.runs
    runs.add_run(f"{pipeline_id}-train", experiment_name="x", files=["model/model.pkl"])
    runs.add_run(f"{pipeline_id}-eval", experiment_name="x", metrics={"auc": auc}, **evaluate)
    runs.add_run(
        pipeline_id,
        experiment_name="x",
        steps={"train": f"{pipeline_id}-train", "evaluate": f"{pipeline_id}-eval"},
    )


SPLIT = {
    "model_name": NAME,
    "metrics_max": ["auc"],
    "pipeline_child_run_name": "train",
    "metrics_child_run_name": "evaluate",
    "model_file_name": "model.pkl",
}


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend()


def test_the_metrics_come_from_the_metrics_step_and_the_model_from_the_model_step(
    backend: InMemoryBackend,
) -> None:
    """The evaluate step's AUC is compared; the train step's model is registered."""
    pipeline(backend, "p1", 0.8)
    result = promote(settings=SPLIT, backend=backend, experiment_name="x", run_id="p1")
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.comparisons[0].candidate == pytest.approx(0.8)
    assert result.model is not None
    assert result.model.run_id == "p1-train"
    assert result.decision.candidate == "run p1-train in experiment x (metrics from run p1-eval)"
    assert result.model.tags["promotion.metrics_run"] == "p1-eval"


def test_a_later_promotion_compares_with_the_metrics_step_of_the_champion(
    backend: InMemoryBackend,
) -> None:
    """The baseline's metrics are read from the step its record names, not its model's step."""
    pipeline(backend, "p1", 0.8)
    promote(settings=SPLIT, backend=backend, experiment_name="x", run_id="p1")
    pipeline(backend, "p2", 0.7)
    result = promote(settings=SPLIT, backend=backend, experiment_name="x", run_id="p2")
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.comparisons[0].baseline == pytest.approx(0.8)


def test_without_metrics_child_run_name_the_model_step_holds_the_metrics(
    backend: InMemoryBackend,
) -> None:
    """metrics_child_run_name defaults to pipeline_child_run_name: one step for both."""
    pipeline(backend, "p1", 0.8)
    settings = {k: v for k, v in SPLIT.items() if k != "metrics_child_run_name"}
    assert load_settings(settings).metrics_step == "train"
    result = promote(settings=settings, backend=backend, experiment_name="x", run_id="p1")
    assert result.decision.verdict is Verdict.REJECT
    assert "missing from the candidate" in result.decision.comparisons[0].reason
    assert result.decision.candidate == "run p1-train in experiment x"


def test_a_metrics_step_that_does_not_exist_names_the_steps(backend: InMemoryBackend) -> None:
    """A wrong metrics_child_run_name is an error listing the pipeline's steps."""
    pipeline(backend, "p1", 0.8)
    with pytest.raises(RunNotFoundError, match="evaluate, train"):
        promote(
            settings={**SPLIT, "metrics_child_run_name": "score"},
            backend=backend,
            experiment_name="x",
            run_id="p1",
        )


def test_a_metrics_step_that_did_not_complete_is_not_promoted(backend: InMemoryBackend) -> None:
    """The metrics step's status is checked as the model step's is."""
    pipeline(backend, "p1", 0.8, status="Failed")
    with pytest.raises(RunStateError):
        promote(settings=SPLIT, backend=backend, experiment_name="x", run_id="p1")


def test_job_output_is_refused_by_a_backend_without_named_outputs(
    backend: InMemoryBackend,
) -> None:
    """A run store without named outputs refuses job_output as a settings error naming it."""
    pipeline(backend, "p1", 0.8)
    refused = r"job_output 'model_output' .*no named outputs.* @ \$\.job_output"
    with pytest.raises(SettingsError, match=refused):
        promote(
            settings={**SPLIT, "job_output": "model_output"},
            backend=backend,
            experiment_name="x",
            run_id="p1",
        )
    assert backend.runs.calls == []  # refused before any run is read
    assert backend.registry.versions == {}


def test_job_output_is_refused_in_local_mode(backend: InMemoryBackend, tmp_path: Any) -> None:
    """A local model is not a job's output: job_output with model_path is a settings error."""
    (tmp_path / "model.pkl").write_bytes(b"m")
    with pytest.raises(SettingsError, match=r"\$\.job_output"):
        promote(
            settings={"model_name": NAME, "job_output": "model_output"},
            backend=backend,
            model_path=tmp_path / "model.pkl",
        )


def test_job_output_is_refused_with_a_logged_model(backend: InMemoryBackend) -> None:
    """A logged model is its run's files: job_output with model_id is a settings error first.

    Refused before the backend is asked anything (here one without logged models, which would
    otherwise be a UsageError).
    """
    with pytest.raises(SettingsError, match=r"logged model .* @ \$\.job_output"):
        promote(
            settings={"model_name": NAME, "job_output": "model_output"},
            backend=backend,
            model_id="m-1",
        )
    assert backend.runs.calls == []
    assert backend.registry.versions == {}


def test_a_metrics_step_is_refused_in_local_mode(backend: InMemoryBackend, tmp_path: Any) -> None:
    """A local model's metrics are given: metrics_child_run_name with model_path is refused."""
    (tmp_path / "model.pkl").write_bytes(b"m")
    with pytest.raises(SettingsError, match=r"local model.* @ \$\.metrics_child_run_name"):
        promote(
            settings={"model_name": NAME, "metrics_child_run_name": "evaluate"},
            backend=backend,
            model_path=tmp_path / "model.pkl",
            metrics={"auc": 0.9},
        )
    assert backend.registry.versions == {}


def test_a_metrics_step_is_refused_with_a_logged_model(backend: InMemoryBackend) -> None:
    """A logged model's metrics are its own run's: metrics_child_run_name is refused first."""
    with pytest.raises(SettingsError, match=r"logged model.* @ \$\.metrics_child_run_name"):
        promote(
            settings={"model_name": NAME, "metrics_child_run_name": "evaluate"},
            backend=backend,
            model_id="m-1",
        )
    assert backend.runs.calls == []
    assert backend.registry.versions == {}


def test_job_output_defaults_model_file_name_to_the_whole_output() -> None:
    """With job_output and no model_file_name the model is the whole output ("/")."""
    assert load_settings({"job_output": "model_output"}).model_file_name == "/"
    assert Settings(job_output="model_output").model_file_name == "/"
    assert load_settings({}).model_file_name == "model.pkl"
    named = load_settings({"job_output": "model_output", "model_file_name": "model/"})
    assert named.model_file_name == "model/"


@pytest.mark.parametrize("key", ["job_output", "metrics_child_run_name"])
def test_the_new_keys_are_names(key: str) -> None:
    """A blank or non-string value is a settings error at the key's path."""
    with pytest.raises(SettingsError, match=rf"\$\.{key}"):
        load_settings({key: 3})


# --- a run store with named outputs (a hand-written fake of the JobOutputStore port) ------------


class OutputRunStore(InMemoryRunStore):
    """The in-memory run store, with named outputs: (run id, output) → files."""

    def __init__(self) -> None:
        super().__init__()
        self.outputs: dict[tuple[str, str], list[str]] = {}

    def list_output_files(self, run: RunRecord, output: str) -> Sequence[str]:
        if (run.run_id, output) not in self.outputs:
            held = sorted(o for r, o in self.outputs if r == run.run_id)
            msg = f"job {run.run_id!r} has no output named {output!r}; it has {held}"
            raise ModelFileError(msg, wanted=output, files=held)
        return list(self.outputs[run.run_id, output])


@pytest.fixture
def with_outputs() -> InMemoryBackend:
    backend = InMemoryBackend()
    runs = OutputRunStore()
    backend.runs = runs
    backend.registry = InMemoryRegistry(runs)
    runs.add_run("job", experiment_name="x", metrics={"auc": 0.8})
    runs.outputs["job", "model_output"] = ["MLmodel", "model.pkl", "extra/notes.txt"]
    return backend


def _promote_output(backend: InMemoryBackend, **more: object) -> Any:
    settings = {"model_name": NAME, "metrics_max": ["auc"], "job_output": "model_output", **more}
    return promote(settings=settings, backend=backend, experiment_name="x", run_id="job")


def test_the_whole_output_is_the_model_when_no_file_is_named(with_outputs: InMemoryBackend) -> None:
    """job_output alone: the request names the output and an empty path (all of it)."""
    result = _promote_output(with_outputs)
    assert result.model_path == ""
    (request,) = with_outputs.registry.requests
    assert (request.job_output, request.model_path) == ("model_output", "")


def test_model_file_name_is_found_inside_the_output(with_outputs: InMemoryBackend) -> None:
    """model_file_name names a file in the output, found as among a run's files."""
    _promote_output(with_outputs, model_file_name="notes.txt")
    (request,) = with_outputs.registry.requests
    assert (request.job_output, request.model_path) == ("model_output", "extra/notes.txt")


def test_a_file_the_output_lacks_names_the_output_and_the_job(
    with_outputs: InMemoryBackend,
) -> None:
    """Nothing of that name in the output: the error says which output of which job."""
    with pytest.raises(ModelFileError, match="output 'model_output' of job 'job': ") as caught:
        _promote_output(with_outputs, model_file_name="weights.onnx")
    assert "model.pkl" in caught.value.files
    assert with_outputs.registry.requests == []


def test_an_empty_output_or_a_missing_one_registers_nothing(
    with_outputs: InMemoryBackend,
) -> None:
    """An output with no files, or one the job does not have, is a ModelFileError."""
    runs = with_outputs.runs
    assert isinstance(runs, OutputRunStore)
    runs.outputs["job", "model_output"] = []
    with pytest.raises(ModelFileError, match="holds no files"):
        _promote_output(with_outputs)
    with pytest.raises(ModelFileError, match="no output named 'other'"):
        _promote_output(with_outputs, job_output="other")
    assert with_outputs.registry.requests == []


def test_help_says_what_no_run_id_means_inside_an_azure_ml_job() -> None:
    """aml-promote --help says that inside a v2 job no run id names the job or its sibling."""
    from aml_promotion._cli import build_parser  # noqa: PLC0415 - the CLI only here

    text = " ".join(build_parser().format_help().split())
    assert (
        "Inside an Azure ML job with --backend azureml-v2 (MLFLOW_RUN_ID or AZUREML_RUN_ID set)"
        in text
    )
    assert "its sibling step pipeline_child_run_name" in text
