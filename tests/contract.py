"""The contract every backend keeps: one suite, run over each `RunStore`/`ModelRegistry`.

A test module subclasses `BackendContract` and provides a ``harness`` fixture: an object with

- ``backend``: the backend under test (``.runs`` and ``.registry``);
- ``add_run(experiment_name, metrics, files) -> str``: create a completed run the backend's own
  way (the real client, an emulator's seed...) and return its id. A metric given as a list is
  logged once per value, in order; ``files`` are relative paths of files the run holds.

Each test uses fresh names (``unique``), so a harness may share one store between tests.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any, Protocol

import pytest

from aml_promotion import BaselineStrategy, decide, load_settings, promote
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    RunNotFoundError,
    SettingsError,
    UsageError,
)
from aml_promotion.ports import Backend, RegistrationRequest, RunStatus


class Harness(Protocol):
    """Seeds runs for a backend under test.

    A harness whose backend registers no local model files sets ``supports_local_mode =
    False``: the local-mode tests then check that it refuses them (`UsageError`) instead.
    """

    backend: Backend

    def add_run(self, experiment_name: str, metrics: dict[str, Any], files: list[str]) -> str: ...


class BackendContract:
    """Subclass with a ``harness`` fixture to run the contract over a backend."""

    @pytest.fixture
    def unique(self) -> str:
        """A fresh suffix for experiment and model names."""
        return uuid.uuid4().hex[:8]

    # --- runs ---------------------------------------------------------------------------------

    def test_get_run_returns_the_completed_run(self, harness: Harness, unique: str) -> None:
        """A run is found by id and experiment, with its status."""
        run_id = harness.add_run(f"exp-{unique}", {"auc": 0.9}, ["model.pkl"])
        run = harness.backend.runs.get_run(experiment_name=f"exp-{unique}", run_id=run_id)
        assert run.run_id == run_id
        assert run.experiment_name == f"exp-{unique}"
        assert run.status is RunStatus.COMPLETED

    def test_get_run_in_the_wrong_experiment_is_not_found(
        self, harness: Harness, unique: str
    ) -> None:
        """A run id checked against another experiment is a clear RunNotFoundError."""
        run_id = harness.add_run(f"exp-{unique}", {"auc": 0.9}, ["model.pkl"])
        with pytest.raises(RunNotFoundError, match=f"other-{unique}"):
            harness.backend.runs.get_run(experiment_name=f"other-{unique}", run_id=run_id)

    def test_get_run_of_an_unknown_id_is_not_found(self, harness: Harness, unique: str) -> None:
        """An id that no run has is a RunNotFoundError, not a backend crash."""
        harness.add_run(f"exp-{unique}", {}, ["model.pkl"])
        with pytest.raises(RunNotFoundError):
            harness.backend.runs.get_run(
                experiment_name=f"exp-{unique}", run_id=f"0000{unique}0000"
            )

    def test_get_metrics_returns_only_the_names_asked_for(
        self, harness: Harness, unique: str
    ) -> None:
        """Only the asked metrics come back; absent ones are simply absent."""
        run_id = harness.add_run(
            f"exp-{unique}", {"auc": 0.9, "loss": 0.2, "f1": 0.7}, ["model.pkl"]
        )
        runs = harness.backend.runs
        run = runs.get_run(experiment_name=None, run_id=run_id)
        got = runs.get_metrics(run, ["auc", "missing"])
        assert dict(got.values) == {"auc": pytest.approx(0.9)}
        if got.available is not None:
            assert {"auc", "loss", "f1"} <= got.available

    def test_get_metrics_reads_a_series(self, harness: Harness, unique: str) -> None:
        """A metric logged several times: its last value, or every value when asked as a series."""
        run_id = harness.add_run(f"exp-{unique}", {"loss": [0.5, 0.3, 0.4]}, ["model.pkl"])
        runs = harness.backend.runs
        run = runs.get_run(experiment_name=None, run_id=run_id)
        last = runs.get_metrics(run, ["loss"]).values["loss"]
        assert last == pytest.approx(0.4) or last == pytest.approx([0.5, 0.3, 0.4])
        series = runs.get_metrics(run, ["loss"], series=["loss"]).values["loss"]
        assert series == pytest.approx([0.5, 0.3, 0.4])

    def test_list_files_lists_nested_files_relative_to_the_run(
        self, harness: Harness, unique: str
    ) -> None:
        """Files come back as run-relative paths with forward slashes, nested ones included."""
        files = ["outputs/model/model.pkl", "outputs/model/conda.yaml", "metrics.json"]
        run_id = harness.add_run(f"exp-{unique}", {}, files)
        runs = harness.backend.runs
        listed = runs.list_files(runs.get_run(experiment_name=None, run_id=run_id))
        assert set(files) <= set(listed)

    # --- registry -----------------------------------------------------------------------------

    def _register(self, harness: Harness, name: str, run_id: str, **tags: str) -> Any:
        runs = harness.backend.runs
        run = runs.get_run(experiment_name=None, run_id=run_id)
        return harness.backend.registry.register(
            RegistrationRequest(name=name, model_path="model.pkl", run=run, tags=tags)
        )

    def test_no_versions_means_no_baseline(self, harness: Harness, unique: str) -> None:
        """A model name never registered has no baseline (None, not an error)."""
        registry = harness.backend.registry
        assert registry.find_baseline(f"m-{unique}", BaselineStrategy.latest()) is None
        assert registry.find_by_run(f"m-{unique}", "no-such-run") is None

    def test_registered_versions_number_up_and_the_latest_is_the_highest(
        self, harness: Harness, unique: str
    ) -> None:
        """Versions count from 1; the latest strategy picks the highest; a number picks it."""
        name = f"m-{unique}"
        ids = [harness.add_run(f"exp-{unique}", {}, ["model.pkl"]) for _ in range(3)]
        versions = [self._register(harness, name, run_id) for run_id in ids]
        assert [v.version for v in versions] == [1, 2, 3]
        assert all(v.name == name for v in versions)
        assert [v.run_id for v in versions] == ids
        registry = harness.backend.registry
        latest = registry.find_baseline(name, BaselineStrategy.latest())
        assert latest is not None
        assert (latest.version, latest.run_id) == (3, ids[2])
        second = registry.find_baseline(name, BaselineStrategy.version(2))
        assert second is not None
        assert second.run_id == ids[1]
        with pytest.raises(BaselineNotFoundError, match="'version:9'"):
            registry.find_baseline(name, BaselineStrategy.version(9))

    def test_registration_keeps_tags_and_is_found_by_run(
        self, harness: Harness, unique: str
    ) -> None:
        """Tags given at registration are on the version; the version is found by its run."""
        name = f"m-{unique}"
        run_id = harness.add_run(f"exp-{unique}", {}, ["model.pkl"])
        version = self._register(harness, name, run_id, team="risk")
        assert version.tags.get("team") == "risk"
        found = harness.backend.registry.find_by_run(name, run_id)
        assert found is not None
        assert found.version == version.version
        assert found.tags.get("team") == "risk"

    def test_tags_select_baselines_and_can_move(self, harness: Harness, unique: str) -> None:
        """The tag strategy picks the highest tagged version; tags can be set and removed."""
        name = f"m-{unique}"
        ids = [harness.add_run(f"exp-{unique}", {}, ["model.pkl"]) for _ in range(3)]
        v1 = self._register(harness, name, ids[0], stage="prod")
        v2 = self._register(harness, name, ids[1])
        self._register(harness, name, ids[2])
        registry = harness.backend.registry
        strategy = BaselineStrategy.tagged("stage", "prod")
        found = registry.find_baseline(name, strategy)
        assert found is not None
        assert found.version == 1
        registry.set_tags(v2, {"stage": "prod"})
        registry.remove_tags(v1, ["stage"])
        found = registry.find_baseline(name, strategy)
        assert found is not None
        assert found.version == 2
        assert [v.version for v in registry.find_tagged(name, "stage", "prod")] == [2]

    # --- the whole job ------------------------------------------------------------------------

    def test_promote_registers_only_better_models_and_reruns_are_idempotent(
        self, harness: Harness, unique: str
    ) -> None:
        """First model in, a better one in, a worse one out, a re-run registers nothing new."""
        settings = {
            "model_name": f"m-{unique}",
            "model_file_name": "model.pkl",
            "metrics_max": ["auc"],
            "metrics_min": ["loss"],
        }
        exp = f"exp-{unique}"
        first = harness.add_run(exp, {"auc": 0.80, "loss": 0.5}, ["outputs/model.pkl"])
        better = harness.add_run(exp, {"auc": 0.85, "loss": 0.4}, ["outputs/model.pkl"])
        worse = harness.add_run(exp, {"auc": 0.90, "loss": 0.6}, ["outputs/model.pkl"])
        backend = harness.backend

        r1 = promote(experiment_name=exp, run_id=first, settings=settings, backend=backend)
        r2 = promote(experiment_name=exp, run_id=better, settings=settings, backend=backend)
        r3 = promote(experiment_name=exp, run_id=worse, settings=settings, backend=backend)
        again = promote(experiment_name=exp, run_id=better, settings=settings, backend=backend)

        assert r1.model is not None
        assert r1.model.version == 1
        assert r2.model is not None
        assert r2.model.version == 2
        assert r2.decision.promote
        assert r3.model is None
        assert not r3.decision.promote
        assert again.already_registered
        assert again.model is not None
        assert again.model.version == 2
        latest = backend.registry.find_baseline(f"m-{unique}", BaselineStrategy.latest())
        assert latest is not None
        assert latest.version == 2
        assert latest.tags.get("promotion.verdict") == "promote"
        assert latest.tags.get("promotion.baseline_version") == "1"

    def test_the_champion_tag_moves_to_each_promoted_version(
        self, harness: Harness, unique: str
    ) -> None:
        """With a tag baseline, each promoted version takes the tag and only it holds it."""
        name = f"m-{unique}"
        settings = {
            "model_name": name,
            "metrics_max": ["auc"],
            "baseline": "tag:champion=true",
        }
        exp = f"exp-{unique}"
        runs = [harness.add_run(exp, {"auc": auc}, ["model.pkl"]) for auc in (0.80, 0.85, 0.83)]
        results = [
            promote(experiment_name=exp, run_id=r, settings=settings, backend=harness.backend)
            for r in runs
        ]
        assert [r.model.version if r.model else None for r in results] == [1, 2, None]
        assert results[2].baseline is not None
        assert results[2].baseline.version == 2
        registry = harness.backend.registry
        assert [v.version for v in registry.find_tagged(name, "champion", "true")] == [2]
        first = registry.find_baseline(name, BaselineStrategy.version(1))
        assert first is not None
        assert first.tags.get("promotion.superseded_by") == "2"
        # Retired by overwriting, never deleted: a promotion needs no permission to delete.
        assert first.tags.get("champion") == "superseded"

    @pytest.mark.parametrize(
        ("series", "aggregate", "promoted"),
        [
            ([math.nan, 0.95], "last", True),
            ([0.95, math.nan], "last", False),
            ([0.95, math.nan], "first", True),
            ([math.nan, 0.95], "max", False),
        ],
    )
    def test_the_same_logged_series_gets_the_same_verdict_on_every_backend(
        self, harness: Harness, unique: str, series: list[float], aggregate: str, promoted: bool
    ) -> None:
        """last/first read one element of a series (a NaN elsewhere does not count); max needs all.

        Whether a backend fetches only the last value or the whole series, the verdict on the
        same logged data is the one `decide()` gives (DESIGN §3, reading a metric value).
        """
        settings = {
            "model_name": f"m-{unique}",
            "metrics_max": ["auc"],
            "metric_rules": {"auc": {"aggregate": aggregate}},
        }
        exp = f"exp-{unique}"
        first = harness.add_run(exp, {"auc": 0.9}, ["model.pkl"])
        candidate = harness.add_run(exp, {"auc": series}, ["model.pkl"])
        backend = harness.backend
        promote(experiment_name=exp, run_id=first, settings=settings, backend=backend)
        result = promote(experiment_name=exp, run_id=candidate, settings=settings, backend=backend)
        assert result.decision.promote is promoted
        assert decide({"auc": series}, {"auc": 0.9}, load_settings(settings).policy).promote is (
            promoted
        )
        if not promoted:
            assert "NaN" in result.decision.summary

    def test_a_backend_without_local_mode_refuses_a_local_model(
        self,
        harness: Harness,
        unique: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A backend that declares no local mode refuses a local file clearly, registering none."""
        if getattr(harness, "supports_local_mode", True):
            pytest.skip("this backend has a local mode")
        monkeypatch.chdir(tmp_path)
        path = tmp_path / "model.pkl"
        path.write_bytes(b"model")
        name = f"m-{unique}"
        with pytest.raises(UsageError, match="local"):
            promote(
                settings={"model_name": name, "metrics_max": ["auc"]},
                backend=harness.backend,
                model_path=path,
                metrics={"auc": 0.8},
            )
        assert harness.backend.registry.find_baseline(name, BaselineStrategy.latest()) is None

    def test_a_local_model_version_is_a_baseline_and_its_rerun_is_already_registered(
        self,
        harness: Harness,
        unique: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Local versions are baselines; the same local model again is "already registered".

        A worse local model is rejected and a better one registered, whether the backend keeps
        a run for a local version (MLflow) or only the version and its tags (Azure ML); a re-run
        of the same content is found by its digest, not rejected for "no improvement".
        """
        if not getattr(harness, "supports_local_mode", True):
            pytest.skip("this backend has no local mode (see the test of its UsageError)")
        # Azure ML registers local files only from under the working directory.
        monkeypatch.chdir(tmp_path)
        settings = {"model_name": f"m-{unique}", "metrics_max": ["auc"]}
        backend = harness.backend

        def local(name: str, auc: float) -> Any:
            path = tmp_path / name
            path.write_bytes(f"model {name}".encode())
            return promote(
                settings=settings, backend=backend, model_path=path, metrics={"auc": auc}
            )

        first = local("v1.pkl", 0.80)
        worse = local("v2.pkl", 0.70)
        better = local("v3.pkl", 0.90)
        again = local("v3.pkl", 0.90)

        assert first.registered
        assert not worse.decision.promote
        assert worse.model is None
        assert worse.decision.comparisons[0].baseline == pytest.approx(0.80)
        assert better.registered
        assert better.model is not None
        assert better.model.version == 2
        assert again.already_registered
        assert again.model is not None
        assert again.model.version == 2
        latest = backend.registry.find_baseline(f"m-{unique}", BaselineStrategy.latest())
        assert latest is not None
        assert latest.version == 2

    has_aliases = False
    """Whether the backend has registered-model aliases (MLflow, the in-memory fake)."""

    def test_an_alias_is_the_baseline_and_moves_to_each_promoted_version(
        self, harness: Harness, unique: str
    ) -> None:
        """alias:NAME: the holder is the baseline, a promoted version takes it; else refused."""
        name = f"m-{unique}"
        registry = harness.backend.registry
        if not self.has_aliases:
            with pytest.raises(SettingsError, match="has no model aliases"):
                registry.find_baseline(name, BaselineStrategy.alias("champion"))
            return
        settings = {"model_name": name, "metrics_max": ["auc"], "baseline": "alias:champion"}
        exp = f"exp-{unique}"
        runs = [harness.add_run(exp, {"auc": auc}, ["model.pkl"]) for auc in (0.80, 0.85, 0.83)]
        results = [
            promote(experiment_name=exp, run_id=r, settings=settings, backend=harness.backend)
            for r in runs
        ]
        assert [r.model.version if r.model else None for r in results] == [1, 2, None]
        assert [r.champion_version for r in results] == [1, 2, 2]
        assert results[2].baseline is not None
        assert results[2].baseline.version == 2
        holder = registry.find_baseline(name, BaselineStrategy.alias("champion"))
        assert holder is not None
        assert holder.version == 2
        assert registry.find_baseline(name, BaselineStrategy.alias("other")) is None

    def test_a_local_version_keeps_its_series_for_a_significance_rule(
        self,
        harness: Harness,
        unique: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A significance rule against a local version sees its whole series on every backend.

        With or without a run behind the version, the baseline is its 5 scores (recorded as
        ``promotion.series.f`` when there is no run), so the verdict is the same everywhere.
        """
        if not getattr(harness, "supports_local_mode", True):
            pytest.skip("this backend has no local mode (see the test of its UsageError)")
        monkeypatch.chdir(tmp_path)  # Azure ML registers local files only from under it
        settings = {
            "model_name": f"m-{unique}",
            "metric_rules": {"f": {"goal": "maximize", "significance": {"alpha": 0.05}}},
        }

        def local(name: str, scores: list[float]) -> Any:
            path = tmp_path / name
            path.write_bytes(f"model {name}".encode())
            return promote(
                settings=settings, backend=harness.backend, model_path=path, metrics={"f": scores}
            )

        first = local("v1.pkl", [0.7, 0.71, 0.72, 0.7, 0.71])
        better = local("v2.pkl", [0.9, 0.91, 0.92, 0.9, 0.91])
        noise = local("v3.pkl", [0.91, 0.9, 0.92, 0.9, 0.91])

        assert first.registered
        assert better.registered, better.decision.summary
        comparison = better.decision.comparisons[0]
        assert (comparison.n_candidate, comparison.n_baseline) == (5, 5)
        assert comparison.p_value == 1 / 32
        assert not noise.decision.promote
        assert noise.decision.comparisons[0].n_baseline == 5
        assert "not significant" in noise.decision.summary
