"""Our alias and tag-key checks agree with MLflow's own validation (issue 22).

The settings refuse at load what MLflow would refuse after registering; the rules are copied from
``mlflow.utils.validation``, so this pins them to the installed MLflow.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aml_promotion._domain.names import alias_problem, tag_key_problem

validation = pytest.importorskip("mlflow.utils.validation")
MlflowException = pytest.importorskip("mlflow.exceptions").MlflowException

NAMES = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="abV0123456789_-/. :@", max_size=8),
    st.sampled_from(["v1", "V22", "latest", "LATEST", "a//b", "./a", "a/", "/a", "..", "."]),
    st.integers(min_value=249, max_value=257).map(lambda n: "a" * n),
)


def _mlflow_takes_alias(alias: str) -> bool:
    try:
        validation._validate_alias_name(alias)
        validation._validate_alias_name_reserved(alias)
    except MlflowException:
        return False
    return True


def _mlflow_takes_tag_key(key: str) -> bool:
    try:
        validation._validate_model_version_tag(key, "value")
    except MlflowException:
        return False
    return True


@given(NAMES)
def test_an_alias_is_refused_exactly_when_mlflow_refuses_it(alias: str) -> None:
    """Letters, digits, _ and -, at most 255, not v<digits> or latest: MLflow's rule."""
    assert (alias_problem(alias) is None) == _mlflow_takes_alias(alias)


@given(NAMES)
def test_a_tag_key_we_take_is_one_mlflow_takes(key: str) -> None:
    """Same as MLflow's rule, except that we also refuse a key of spaces only."""
    if key.strip():
        assert (tag_key_problem(key) is None) == _mlflow_takes_tag_key(key)
    else:
        assert tag_key_problem(key) is not None
