"""The model frameworks a settings file may name: a closed choice of the registration.

Here rather than in `ports` (which re-exports it), so that reading settings does not load the
ports' classes (import time).
"""

from __future__ import annotations

import enum


class Framework(enum.Enum):
    """The model frameworks a settings file may name (case-insensitive there)."""

    SCIKITLEARN = "scikitlearn"
    ONNX = "onnx"
    TENSORFLOW = "tensorflow"
    KERAS = "keras"
    CUSTOM = "custom"
