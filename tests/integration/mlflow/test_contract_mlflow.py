"""The backend contract, over `MlflowBackend` on sqlite stores logged with MLflow's own client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
pytest.importorskip("sqlalchemy", reason="a sqlite MLflow store needs SQLAlchemy")
pytest.importorskip("alembic", reason="a sqlite MLflow store needs alembic")

from contract import BackendContract

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowHarness


@pytest.fixture
def harness(sqlite_harness: MlflowHarness) -> MlflowHarness:
    """The contract's harness: a fresh sqlite store per test."""
    return sqlite_harness


class TestMlflowBackendOnSqlite(BackendContract):
    """MlflowBackend on a sqlite store keeps the contract the other backends keep."""

    has_aliases = True
