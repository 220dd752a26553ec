"""The candidate: its metrics, what it was evaluated on, and a local model's content digest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aml_promotion._domain.policy import PromotionPolicy
from aml_promotion.exceptions import (
    SettingsError,
    SettingsProblem,
)

if TYPE_CHECKING:
    from pathlib import Path

    # The ports' classes load with the first promotion: only annotations name them here, and
    # the functions that build or test them import them (import time).
    from aml_promotion.ports import (
        MetricValues,
        RunRecord,
        RunStore,
    )


def _metrics(runs: RunStore, run: RunRecord, policy: PromotionPolicy) -> MetricValues:
    if not policy.rules:
        from aml_promotion.ports import MetricValues  # noqa: PLC0415 - see the imports

        return MetricValues()
    datasets = policy.metric_datasets
    if datasets:
        from aml_promotion.ports import DatasetMetricStore  # noqa: PLC0415

        if not isinstance(runs, DatasetMetricStore):
            metric, dataset = next(iter(datasets.items()))
            problem = SettingsProblem(
                path=f"$.metric_rules.{metric}.dataset",
                message=(
                    f"this backend logs no metrics per dataset, so dataset {dataset!r} cannot "
                    "be chosen (MLflow 3's dataset-scoped metrics can)"
                ),
            )
            raise SettingsError([problem])
        return runs.get_dataset_metrics(
            run, policy.metric_names, datasets=datasets, series=policy.series_metric_names
        )
    return runs.get_metrics(run, policy.metric_names, series=policy.series_metric_names)


def _evaluation_data(
    runs: RunStore, run: RunRecord | None, policy: PromotionPolicy
) -> Mapping[str, str | None] | None:
    if policy.evaluation_data is None or run is None:
        return None
    return runs.get_evaluation_data(run, policy.evaluation_data)


def _run_label(run: RunRecord) -> str:
    where = f" in experiment {run.experiment_name}" if run.experiment_name else ""
    return f"run {run.run_id}{where}"


def _local_path(model_path: str | os.PathLike[str]) -> Path:
    # pathlib (with urllib and ipaddress) is a tenth of the import's cost: only local mode pays.
    from pathlib import Path  # noqa: PLC0415

    return Path(model_path).expanduser()


def content_digest(path: Path) -> str:
    """Return a digest of a local model's content: a file's bytes, or a folder's files.

    A folder's digest covers each file's path (relative, with ``/``) and content, so renaming
    or moving a file inside it changes the digest, and where the folder is does not. Symlinks
    are followed, folders too, as the registries' uploads follow them (a folder reached twice,
    a link loop, is read once).

    Returns:
        ``sha256:`` and the hex digest.
    """
    import hashlib  # noqa: PLC0415 - only local mode needs it: keep it out of the import

    digest = hashlib.sha256()
    if path.is_file():
        digest.update(_file_digest(path))
    else:
        for relative, file in _files_under(path):
            digest.update(relative.encode("utf-8") + b"\0")
            digest.update(_file_digest(file))
    return f"sha256:{digest.hexdigest()}"


def _files_under(folder: Path) -> list[tuple[str, Path]]:
    """Return (path relative to `folder` with ``/``, path) of every file, following symlinks.

    Sorted by path segments (as `Path` objects sort); a folder that links back to one of its
    own ancestors (a loop) is not entered again; the same folder reached by two paths is read
    under both, as an upload sends it.
    """
    found: list[tuple[str, Path]] = []
    real: dict[Path, str] = {}
    for root, folders, files in os.walk(folder, followlinks=True):
        here = folder.joinpath(os.path.relpath(root, folder))
        real[here] = os.path.realpath(here)
        if real[here] in {real.get(parent) for parent in here.parents}:
            folders.clear()  # a link back to an ancestor: a loop
            continue
        folders.sort()
        for name in files:
            file = here / name
            if file.is_file():
                found.append((file.relative_to(folder).as_posix(), file))
    return sorted(found, key=lambda pair: pair[1].relative_to(folder).parts)


def _file_digest(path: Path) -> bytes:
    import hashlib  # noqa: PLC0415

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
