"""Edges of the domain that no other unit test reaches on every Python: each asserts a message."""

from __future__ import annotations

import pickle

import pytest

from aml_promotion import Goal, MetricRule, PromotionPolicy, decide
from aml_promotion._domain import render
from aml_promotion._domain.choices import InvariantError
from aml_promotion._domain.names import alias_problem
from aml_promotion.ports import StageMoves


def test_an_over_long_stage_name_is_refused_with_its_length() -> None:
    """A stage's name is at most 255 characters: the error names the field and the length."""
    with pytest.raises(ValueError, match=r"on_supersede is 256 characters long; at most 255"):
        StageMoves(on_supersede="s" * 256)
    assert StageMoves(on_promote="s" * 255).on_promote == "s" * 255


def test_an_invariant_error_crosses_a_process_boundary_whole() -> None:
    """Its keyword-only fields survive pickling (a worker's error reaches the parent intact)."""
    error = InvariantError("at_least must not exceed at_most", field="at_least", subject="auc")
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert isinstance(again, InvariantError)
    assert (again.message, again.field, again.subject) == (error.message, "at_least", "auc")
    assert str(again) == "auc: at_least must not exceed at_most"


@pytest.mark.parametrize("alias", ["", "   "])
def test_a_blank_alias_is_named_blank(alias: str) -> None:
    """A blank alias is refused as blank, before the length and character checks."""
    assert alias_problem(alias) == "the alias is blank"


def test_a_dry_run_of_an_already_registered_candidate_names_its_version() -> None:
    """A dry run that finds the candidate registered says so, with the version, not 'registered'."""
    decision = decide(
        {"auc": 0.9},
        {"auc": 0.8},
        PromotionPolicy(rules=(MetricRule(name="auc", goal=Goal.MAXIMIZE),)),
    )
    view = render.ResultView(
        model_name="churn", model_version=4, already_registered=True, dry_run=True
    )
    assert render.outcome_line(decision, view) == (
        "Dry run: already registered as version 4 of churn."
    )
    done = render.ResultView(model_name="churn", model_version=4, already_registered=True)
    assert render.outcome_line(decision, done) == (
        "Already registered from this run: churn version 4."
    )
