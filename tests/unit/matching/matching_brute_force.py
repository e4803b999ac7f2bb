"""Exhaustive reference solver for tiny instances: the ground truth the tests compare against."""
from __future__ import annotations

import itertools

from core.matching import Instance, check_assignment

__all__ = ["brute_force_optimum"]


def brute_force_optimum(instance: Instance) -> tuple[int, float]:
    """(filled, score) of the lexicographically best feasible assignment, by enumeration."""
    usable = [e for e in instance.edges if (e.expert, e.demand) not in instance.forbidden]
    fixed = [e for e in usable if (e.expert, e.demand) in instance.fixed]
    optional = [e for e in usable if (e.expert, e.demand) not in instance.fixed]
    best: tuple[int, float] | None = None
    for size in range(len(optional), -1, -1):
        if best is not None and len(fixed) + size < best[0]:
            break
        for subset in itertools.combinations(optional, size):
            chosen = fixed + list(subset)
            pairs = [(e.expert, e.demand) for e in chosen]
            if check_assignment(instance, pairs):
                continue
            value = (len(chosen), sum(e.score for e in chosen))
            if best is None or value[0] > best[0] or (value[0] == best[0] and value[1] > best[1] + 1e-12):
                best = value
    assert best is not None
    return best
