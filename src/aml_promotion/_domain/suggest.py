"""Did you mean: the known names closest to one that was not found (a metric, a settings key)."""

from __future__ import annotations

from collections.abc import Iterable

CUTOFF = 0.6
"""difflib's default similarity: loose enough to find 'val_auc' for 'auc'."""


def close_matches(
    name: str, known: Iterable[str], *, cutoff: float = CUTOFF, n: int = 3
) -> list[str]:
    """Return up to `n` of `known` that are close to `name`, the closest first.

    A name that differs from `name` only in case comes first; then difflib's matches whose
    similarity ratio (2 x matching characters / total characters) reaches `cutoff`.

    Args:
        name: The name that was not found.
        known: The names that exist.
        cutoff: The least similarity, in [0, 1].
        n: How many to return at most.
    """
    import difflib  # noqa: PLC0415 - only a name that was not found needs it (import time)

    candidates = sorted(set(known))
    folded = [k for k in candidates if k != name and k.casefold() == name.casefold()]
    matches = difflib.get_close_matches(name, candidates, n=n, cutoff=cutoff)
    return list(dict.fromkeys([*folded, *matches]))[:n]
