"""``python -m aml_promotion``: the ``aml-promote`` command line."""

from __future__ import annotations

import sys

from aml_promotion._cli import main

if __name__ == "__main__":
    sys.exit(main())
