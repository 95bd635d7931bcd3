"""Speed comparisons that a loaded machine cannot flip.

A speedup is measured in two sandboxes, one after the other, and a shared machine can slow either for a moment:
CI once saw a harmless cheat score 2.1 over the reference in one evaluation, and a memo that pays fell under 2.0
in one of fifteen here. Noise comes and goes; a gain, or its absence, is there in every evaluation, so which side
of a bound a program is on shows in one of a few evaluations.
"""

from __future__ import annotations

from collections.abc import Callable

TRIES = 3


def holds_in_one_of_a_few(evaluation_holds: Callable[[], bool]) -> bool:
    """Whether ``evaluation_holds()``, which evaluates afresh, is true in one of ``TRIES`` calls (stops there)."""
    return any(evaluation_holds() for _ in range(TRIES))
