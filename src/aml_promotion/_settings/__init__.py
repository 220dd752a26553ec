"""Settings: the `registermodel.json` file, read into validated values.

One private cattrs `Converter` structures the file; every problem is collected and reported at
once with its path (`$.metric_rules.auc.min_delta`), never as a traceback from inside cattrs.

- `_values`: the `Settings` value object (its invariants, like every value object's, are its own);
- `_shapes`: the file's shapes and the converter that structures them;
- `_problems`: cattrs' structured errors as problems at paths, and "did you mean";
- `_json`: reading a settings file's JSON text;
- `_mapping`: what a Python mapping can hold that no file does (value objects, cycles, depth);
- `_checks`: the checks about the file's own shape (a metric in both lists, a rule's goal);
- `_load`: `load_settings`: structures the source, builds the value objects and reports every
  problem at once, each at the path of the value it belongs to.
"""

from aml_promotion._settings._load import load_settings
from aml_promotion._settings._problems import key_path
from aml_promotion._settings._shapes import KNOWN_KEYS
from aml_promotion._settings._values import (
    DEFAULT_MODEL_FILE_NAME,
    DEFAULT_PIPELINE_CHILD_RUN_NAME,
    MODEL_NAME_PATTERN,
    Settings,
)

__all__ = [
    "DEFAULT_MODEL_FILE_NAME",
    "DEFAULT_PIPELINE_CHILD_RUN_NAME",
    "KNOWN_KEYS",
    "MODEL_NAME_PATTERN",
    "Settings",
    "key_path",
    "load_settings",
]
