"""MLflow search filters: what can be put in a filter string safely."""

from __future__ import annotations

import re

__all__ = ["_RUN_ID", "_quote"]

# MLflow run ids: what MLflow itself accepts, so one can be put in a filter string safely.
_RUN_ID = re.compile(r"^[A-Za-z0-9][\w\-]{0,255}$")


def _quote(value: str) -> str | None:
    """Quote `value` as a string literal for an MLflow filter, or None if it cannot be."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None  # MLflow's filter grammar has no escape for a string holding both quotes
