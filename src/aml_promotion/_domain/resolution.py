"""`Resolution`: how the run a person named led to the run a promotion read.

A run named as the candidate may not be the one that holds the model: a pipeline's step holds
it (``pipeline_child_run_name``), or a sweep's best trial; its metrics may come from yet another
step (``metrics_child_run_name``). A backend that resolves a run that way says so on the
`RunRecord` it returns, with a `Resolution`: the run named and each hop taken from it, so the
result can name them ("run p1 → pipeline step 'train' (run p1-train)").
"""

from __future__ import annotations

import enum

import attrs

from aml_promotion._domain.choices import choice


class HopKind(enum.Enum):
    """What one hop from a run reached: its pipeline's step, or its sweep's best trial."""

    PIPELINE_STEP = "pipeline_step"
    BEST_TRIAL = "best_trial"


def _kind(value: HopKind | str) -> HopKind:
    return choice(HopKind, "kind", value)


def _id(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        msg = f"{field} must be a run's id (a non-empty string), not {value!r}"
        raise ValueError(msg)
    return value


def _run_id(value: str) -> str:
    return _id("run_id", value)


def _given(value: str) -> str:
    return _id("given", value)


@attrs.frozen(kw_only=True)
class Hop:
    """One hop from a run to another: to its pipeline's step `name`, or its sweep's best trial.

    Attributes:
        kind: What the hop reached.
        run_id: The run it reached.
        name: The step's name, for a pipeline's step (required there); None for a best trial.
    """

    kind: HopKind = attrs.field(converter=_kind)
    run_id: str = attrs.field(converter=_run_id)
    name: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind is HopKind.PIPELINE_STEP and not self.name:
            msg = f"a pipeline step's hop (to run {self.run_id!r}) needs the step's name"
            raise ValueError(msg)

    @classmethod
    def step(cls, name: str, run_id: str) -> Hop:
        """Return the hop to a pipeline's step `name`, run `run_id`."""
        return cls(kind=HopKind.PIPELINE_STEP, run_id=run_id, name=name)

    @classmethod
    def best_trial(cls, run_id: str) -> Hop:
        """Return the hop to a sweep's best trial, run `run_id`."""
        return cls(kind=HopKind.BEST_TRIAL, run_id=run_id)

    def to_dict(self) -> dict[str, object]:
        """Return the hop as JSON-ready data."""
        return {"kind": self.kind.value, "name": self.name, "run_id": self.run_id}


def _hops(value: tuple[Hop, ...] | list[Hop]) -> tuple[Hop, ...]:
    hops = tuple(value)
    if not hops or not all(isinstance(hop, Hop) for hop in hops):
        msg = f"hops must be one Hop or more, not {value!r}"
        raise ValueError(msg)
    return hops


@attrs.frozen(kw_only=True)
class Resolution:
    """How a run was reached from the run a person named (a pipeline, a sweep).

    Attributes:
        given: The run named (``--run-id``, ``promote(run_id=...)``; the pipeline of the job
            the code runs in, when it named none).
        hops: Each hop taken from it, in order; the last reached the run this describes.
    """

    given: str = attrs.field(converter=_given)
    hops: tuple[Hop, ...] = attrs.field(converter=_hops)

    @property
    def run_id(self) -> str:
        """The run reached: the last hop's."""
        return self.hops[-1].run_id

    @classmethod
    def hop(cls, before: Resolution | None, given: str, hop: Hop) -> Resolution:
        """Return `before` with one more `hop`, or, with no `before`, `hop` from run `given`."""
        if before is None:
            return cls(given=given, hops=(hop,))
        return attrs.evolve(before, hops=(*before.hops, hop))

    def to_dict(self) -> dict[str, object]:
        """Return the resolution as JSON-ready data."""
        return {"given": self.given, "hops": [hop.to_dict() for hop in self.hops]}
