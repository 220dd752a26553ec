"""A job's named outputs (``outputs.model_output``): which it has, where they are, their files.

A command job's outputs come with the job (``job.outputs``: name → ``Output``, its ``path`` the
datastore URI when the job set or the service recorded one); a pipeline's step, which
azure-ai-ml reads from run history, carries none, so its run-history record is read for them
(``outputs``: name → typed asset reference). An output without a path of its own is where
Azure ML puts every named output by default, and where azure-ai-ml's ``jobs.download`` looks
for it: ``azureml://datastores/<default datastore>/paths/azureml/<job>/<output>/``. Its files
are listed in the datastore's storage with the client azure-ai-ml uploads and downloads with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aml_promotion.exceptions import ModelFileError

if TYPE_CHECKING:
    from aml_promotion.ports import RunRecord

__all__ = ["job_output_uri", "output_files"]


def job_output_uri(job_name: str, output: str, path: str, *, folder: bool) -> str:
    """Return the URI a model is registered from: ``azureml://jobs/<job>/outputs/<output>/...``.

    Args:
        job_name: The job.
        output: Its named output.
        path: The model's path inside the output; empty for the whole output.
        folder: Whether `path` is a folder (a trailing ``/``, as Azure ML writes folders).
    """
    tail = f"{path}/" if path and folder else path
    return f"azureml://jobs/{job_name}/outputs/{output}/paths/{tail}"


def output_files(ml_client: Any, run: RunRecord, output: str) -> list[str]:
    """Return the files of job `run`'s output `output`, relative to it (no retry: the caller's).

    Args:
        ml_client: The workspace's ``azure.ai.ml.MLClient``.
        run: The job.
        output: The name of its output.

    Raises:
        ModelFileError: The job has no output of that name (the error lists those it has).
    """
    outputs = _outputs(ml_client, run)
    if output not in outputs:
        names = sorted(outputs)
        shown = ", ".join(repr(n) for n in names) or "none"
        raise ModelFileError(
            f"job {run.run_id!r} has no output named {output!r} (job_output); its outputs are: "
            f"{shown}",
            wanted=output,
            files=names,
        )
    return _list(ml_client, _location(ml_client, run.run_id, output, outputs[output]))


def _outputs(ml_client: Any, run: RunRecord) -> Mapping[str, Any]:
    """Return the job's outputs, name → ``Output`` (or run history's asset reference)."""
    held = getattr(run.handle, "outputs", None)
    if isinstance(held, Mapping) and held:
        return dict(held)
    # A pipeline's step (azure-ai-ml's _BaseJob) has no outputs: run history's record has them,
    # the one `jobs.get` read it from (the SDK keeps no public call for it).
    history = ml_client.jobs._runs_operations.get_run(run.run_id)  # noqa: SLF001
    return dict(getattr(history, "outputs", None) or {})


def _location(ml_client: Any, job_name: str, output: str, held: Any) -> tuple[str, str]:
    """Return (datastore, path in it) of an output: its own path, else Azure ML's default."""
    from azure.ai.ml._utils._storage_utils import AzureMLDatastorePathUri  # noqa: PLC0415

    path = getattr(held, "path", None)
    if isinstance(path, str) and path.startswith("azureml://") and "/datastores/" in path:
        parsed = AzureMLDatastorePathUri(path)
        return str(parsed.datastore), str(parsed.path)
    default = ml_client.datastores.get_default().name
    return str(default), f"azureml/{job_name}/{output}/"


def _list(ml_client: Any, location: tuple[str, str]) -> list[str]:
    """Return the files under a datastore path, relative to it, with ``/``."""
    from azure.ai.ml._artifacts._artifact_utilities import get_datastore_info  # noqa: PLC0415
    from azure.ai.ml._utils._storage_utils import get_storage_client  # noqa: PLC0415

    datastore, path = location
    prefix = path.strip("/") + "/"
    info = get_datastore_info(ml_client.datastores, datastore)
    client: Any = get_storage_client(**info)
    names: Sequence[str] = client.list(starts_with=prefix)
    found = {str(n)[len(prefix) :] for n in names if str(n).startswith(prefix)}
    return sorted(n for n in found if n and not n.endswith("/"))
