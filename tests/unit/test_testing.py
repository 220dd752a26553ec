"""The public in-memory fakes behave like a backend where promote() and users can tell."""

from __future__ import annotations

import pytest

from aml_promotion import BaselineStrategy
from aml_promotion.exceptions import RegistryError, RunNotFoundError, SettingsError
from aml_promotion.ports import ModelVersion, RegistrationRequest, RunStatus
from aml_promotion.testing import InMemoryBackend, InMemoryRegistry, InMemoryRunStore


def test_run_ids_default_to_fresh_names() -> None:
    """add_run without an id numbers the runs run-1, run-2..."""
    store = InMemoryRunStore()
    assert [store.add_run().run_id, store.add_run().run_id] == ["run-1", "run-2"]


@pytest.mark.parametrize(
    ("given", "status"),
    [
        ("completed", RunStatus.COMPLETED),
        (RunStatus.FAILED, RunStatus.FAILED),
        ("Canceled", RunStatus.CANCELED),
        ("Queued", RunStatus.OTHER),
    ],
)
def test_a_status_is_read_case_insensitively_and_kept_as_given(
    given: RunStatus | str, status: RunStatus
) -> None:
    """A status word maps to RunStatus (OTHER when unknown); status_text keeps the word."""
    store = InMemoryRunStore()
    store.add_run("r", status=given)
    record = store.get_run(experiment_name=None, run_id="r")
    assert record.status is status
    assert record.status_text == (given.value if isinstance(given, RunStatus) else given)


def test_a_series_is_returned_whole_only_when_asked() -> None:
    """A list-valued metric comes back as its last value, or whole when named in `series`."""
    store = InMemoryRunStore()
    store.add_run("r", metrics={"loss": [0.5, 0.3], "empty": []})
    record = store.get_run(experiment_name=None, run_id="r")
    assert store.get_metrics(record, ["loss", "empty"]).values == {"loss": 0.3, "empty": []}
    assert store.get_metrics(record, ["loss"], series=["loss"]).values == {"loss": [0.5, 0.3]}


def test_a_hyperdrive_run_without_a_best_child_is_not_found() -> None:
    """A HyperDrive parent with no best child: RunNotFoundError saying so."""
    store = InMemoryRunStore()
    store.add_run("hd", is_hyperdrive=True)
    with pytest.raises(RunNotFoundError, match="has no best child"):
        store.get_run(experiment_name=None, run_id="hd")


def test_a_pipeline_step_name_must_be_unique() -> None:
    """Two steps of the same name: RunNotFoundError naming the count."""
    store = InMemoryRunStore()
    store.add_run("a")
    store.add_run("b")
    store.add_run("pipe", steps={"train": ["a", "b"]})
    with pytest.raises(RunNotFoundError, match="has 2 steps named 'train'") as info:
        store.get_run(experiment_name=None, run_id="pipe", pipeline_step="train")
    assert info.value.candidates == ("train",)


def test_versions_are_numbered_from_one_and_the_latest_is_the_highest() -> None:
    """add_version numbers per name; latest is the highest version."""
    registry = InMemoryRegistry()
    registry.add_version("a")
    registry.add_version("b")
    second = registry.add_version("a")
    assert (second.version, second.id) == (2, "a:2")
    assert registry.find_baseline("a", BaselineStrategy.latest()) == second
    assert registry.find_baseline("c", BaselineStrategy.latest()) is None


def test_tags_are_set_and_removed_on_the_stored_version() -> None:
    """set_tags and remove_tags change what get() and find_tagged() see."""
    registry = InMemoryRegistry()
    version = registry.add_version("m", tags={"stage": "dev"})
    registry.set_tags(version, {"stage": "prod", "owner": "ds"})
    assert registry.get("m", 1).tags == {"stage": "prod", "owner": "ds"}
    assert registry.find_tagged("m", "stage", "prod") == [registry.get("m", 1)]
    registry.remove_tags(version, ["owner", "absent"])
    assert registry.get("m", 1).tags == {"stage": "prod"}


def test_tagging_a_version_that_does_not_exist_is_a_registry_error() -> None:
    """A version the registry does not hold cannot be tagged."""
    registry = InMemoryRegistry()
    ghost = ModelVersion(name="m", version=3, id="m:3")
    with pytest.raises(RegistryError, match="no version m:3 to tag"):
        registry.set_tags(ghost, {"a": "b"})


def test_a_local_registration_without_a_run_store_has_no_run() -> None:
    """A registry on its own registers local files without making a run for them."""
    registry = InMemoryRegistry()
    version = registry.register(RegistrationRequest(name="m", model_path="model.pkl"))
    assert version.run_id is None


def test_fail_next_fails_the_named_operation_that_many_times() -> None:
    """fail_next(op, error, times=2) fails the next two calls of op, then lets them through."""
    backend = InMemoryBackend()
    error = RegistryError("down")
    backend.fail_next("find_baseline", error, times=2)
    for _ in range(2):
        with pytest.raises(RegistryError):
            backend.registry.find_baseline("m", BaselineStrategy.latest())
    assert backend.registry.find_baseline("m", BaselineStrategy.latest()) is None
    assert backend.operations() == ["find_baseline"] * 3


def test_the_fake_registry_refuses_stage_baselines() -> None:
    """The in-memory registry has no stages: a SettingsError, never "no baseline"."""
    registry = InMemoryBackend().registry
    with pytest.raises(
        SettingsError, match=r"the in-memory backend has no model stages, so"
    ) as caught:
        registry.find_baseline("m", BaselineStrategy.parse("stage:Production"))
    assert caught.value.problems[0].path == "$.baseline"


def test_the_fake_registry_moves_an_alias_between_versions() -> None:
    """An alias has one holder: set_alias moves it, find_baseline returns the holder."""
    registry = InMemoryBackend().registry
    champion = BaselineStrategy.alias("champion")
    assert registry.find_baseline("m", champion) is None
    first, second = registry.add_version("m"), registry.add_version("m")
    registry.set_alias(first, "champion")
    assert registry.find_baseline("m", champion) == first
    registry.set_alias(second, "champion")
    assert registry.find_baseline("m", champion) == second
    assert registry.find_baseline("m", BaselineStrategy.alias("other")) is None


def test_the_fake_registry_refuses_an_alias_on_a_missing_version() -> None:
    """Pointing an alias at a version that does not exist is a RegistryError."""
    backend = InMemoryBackend()
    ghost = backend.registry.add_version("m")
    backend.registry.versions.clear()
    with pytest.raises(RegistryError, match="no version m:1"):
        backend.registry.set_alias(ghost, "champion")
