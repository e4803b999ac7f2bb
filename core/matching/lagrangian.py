"""Upper bound by relaxing only the demand rows: each expert then plans alone, exactly.

For any prices pi_d >= 0 on demand slots,
    sum_d need_d * pi_d + sum_e best_plan_e(pi)
bounds every feasible assignment, where best_plan_e picks at most `slots` edges
spread over at most `universities` universities (plus any number where the expert
already holds a fixed pair) maximising sum of (value - pi_d). Unlike per-edge
completion of LP duals, an expert with a hundred slightly attractive edges counts
only the few it could actually take, which keeps the bound tight on national
instances where most edges are never priced into the LP.
"""
from __future__ import annotations

import numpy as np

from core.matching.model import CompiledInstance

__all__ = ["lagrangian_bound"]


def _best_plan(
    values_by_university: list[np.ndarray], held: list[bool], slots: int, universities: int
) -> float:
    """Best total of at most `slots` values from at most `universities` non-held groups (held groups free)."""
    if slots <= 0:
        return 0.0
    # prefix[g][k]: best total from group g using k of its values (sorted descending).
    # dp[j][k]: best total using j opened universities and k slots.
    neg = -np.inf
    dp = np.full((universities + 1, slots + 1), neg)
    dp[0, 0] = 0.0
    for values, is_held in zip(values_by_university, held):
        take = min(len(values), slots)
        prefix = np.concatenate([[0.0], np.cumsum(values[:take])])
        new = dp.copy()
        for k in range(1, take + 1):
            if is_held:
                # No university opened: shift within the same j.
                new[:, k:] = np.maximum(new[:, k:], dp[:, : slots + 1 - k] + prefix[k])
            elif universities > 0:
                new[1:, k:] = np.maximum(new[1:, k:], dp[:-1, : slots + 1 - k] + prefix[k])
        dp = new
    return float(dp.max())


def lagrangian_bound(compiled: CompiledInstance, weight: float, demand_price: np.ndarray) -> float:
    """Valid upper bound on weight * filled + score over the free part, for these prices."""
    price = np.maximum(demand_price, 0.0)
    free = compiled.free
    expert = compiled.edge_expert[free]
    demand = compiled.edge_demand[free]
    value = weight + compiled.edge_score[free] - price[demand]
    positive = np.flatnonzero(value > 0)
    bound = float(compiled.residual_need.clip(min=0) @ price)
    if len(positive) == 0:
        return bound
    expert, demand, value = expert[positive], demand[positive], value[positive]
    university = compiled.demand_university[demand]
    opens = compiled.free_opens_university[positive]
    # Sort by expert, then university, then value descending: each expert's groups are contiguous.
    order = np.lexsort((-value, university, expert))
    expert, university, value, opens = expert[order], university[order], value[order], opens[order]
    slots = compiled.residual_slots
    universities = compiled.residual_universities
    expert_starts = np.flatnonzero(np.r_[True, expert[1:] != expert[:-1]])
    expert_ends = np.r_[expert_starts[1:], len(expert)]
    group_start = np.r_[True, (expert[1:] != expert[:-1]) | (university[1:] != university[:-1])]
    # Experts touching one university, or with enough university room for all their
    # groups, need no search: take their best values up to the slot cap.
    group_count = np.add.reduceat(group_start.astype(np.int64), expert_starts)
    held_groups = np.add.reduceat((group_start & ~opens).astype(np.int64), expert_starts)
    experts_here = expert[expert_starts]
    simple = (group_count - held_groups) <= universities[experts_here]
    for start, end, e, is_simple in zip(expert_starts.tolist(), expert_ends.tolist(), experts_here.tolist(), simple.tolist()):
        cap = int(slots[e])
        if cap <= 0:
            continue
        chunk = value[start:end]
        if is_simple:
            k = min(cap, len(chunk))
            bound += float(np.partition(-chunk, k - 1)[:k].sum() * -1) if k < len(chunk) else float(chunk.sum())
            continue
        starts = np.flatnonzero(group_start[start:end])
        groups = np.split(chunk, starts[1:])
        held = [not bool(opens[start + s]) for s in starts]
        # Only each group's best `cap` values can matter, and a group is worth at most its prefix.
        bound += _best_plan(groups, held, cap, int(universities[e]))
    return bound
