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

__all__ = ["flow_prices", "idle_expert_prices", "lagrangian_bound", "lagrangian_plans"]


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
    return lagrangian_plans(compiled, weight, demand_price)[0]


def lagrangian_plans(
    compiled: CompiledInstance, weight: float, demand_price: np.ndarray
) -> tuple[float, np.ndarray]:
    """The bound, and how many slots of each demand the experts' own best plans take.

    need - taken is a subgradient of the bound in the prices (for experts with held
    universities or three or more to open, the plans' choices are left out: the
    bound stays exact, the direction is then approximate).
    """
    price = np.maximum(demand_price, 0.0)
    free = compiled.free
    bound = float(compiled.residual_need.clip(min=0) @ price)
    taken = np.zeros(compiled.n_demands)
    value = weight + compiled.edge_score[free] - price[compiled.edge_demand[free]]
    positive = np.flatnonzero(value > 0)
    if len(positive) == 0:
        return bound, taken
    edges = free[positive]
    expert = compiled.edge_expert[edges]
    demand = compiled.edge_demand[edges]
    university = compiled.demand_university[demand]
    value = value[positive]
    opens = compiled.free_opens_university[positive]
    slots = np.maximum(compiled.residual_slots, 0)
    universities = np.maximum(compiled.residual_universities, 0)

    # Sort by expert, then university, then value descending: each expert's groups are contiguous.
    order = np.lexsort((-value, university, expert))
    expert, university, value, opens = expert[order], university[order], value[order], opens[order]
    demand = demand[order]
    n = len(expert)
    new_expert = np.r_[True, expert[1:] != expert[:-1]]
    new_group = new_expert | np.r_[True, university[1:] != university[:-1]]
    expert_starts = np.flatnonzero(new_expert)
    group_starts = np.flatnonzero(new_group)
    experts_here = expert[expert_starts]
    group_expert = expert[group_starts]
    group_of = np.cumsum(new_group) - 1
    rank_in_group = np.arange(n) - group_starts[group_of]
    cap = slots[expert]
    # Only a group's best `slots` values can ever be taken.
    useful = rank_in_group < cap
    group_opens = opens[group_starts]
    open_groups = np.bincount(group_expert[group_opens], minlength=compiled.n_experts)[experts_here]
    has_held = np.bincount(group_expert[~group_opens], minlength=compiled.n_experts)[experts_here] > 0
    room = universities[experts_here]
    simple = open_groups <= room
    single = ~simple & ~has_held & (room == 1)
    double = ~simple & ~has_held & (room == 2)
    rest = ~simple & ~single & ~double
    expert_kind = np.zeros(compiled.n_experts, dtype=np.int8)  # 0 none, 1 simple, 2 single, 3 double, 4 rest
    expert_kind[experts_here[simple]] = 1
    expert_kind[experts_here[single]] = 2
    expert_kind[experts_here[double]] = 3
    expert_kind[experts_here[rest]] = 4
    kind = expert_kind[expert]

    # Simple: every group may be used, so the best `slots` values of the expert.
    mask = (kind == 1) & useful
    if mask.any():
        e_s, v_s, d_s = expert[mask], value[mask], demand[mask]
        o = np.lexsort((-v_s, e_s))
        e_s, v_s, d_s = e_s[o], v_s[o], d_s[o]
        starts = np.searchsorted(e_s, e_s, side="left")
        rank = np.arange(len(e_s)) - starts
        take = rank < slots[e_s]
        bound += float(v_s[take].sum())
        taken += np.bincount(d_s[take], minlength=compiled.n_demands)

    # Prefix sums of each group's values (saturated after the group ends), for the searching kinds.
    search = ((kind == 2) | (kind == 3)) & useful
    if search.any():
        max_cap = int(cap[search].max())
        g_ids, g_local = np.unique(group_of[search], return_inverse=True)
        prefix = np.zeros((len(g_ids), max_cap + 1))
        prefix[g_local, rank_in_group[search] + 1] = value[search]
        prefix = np.cumsum(prefix, axis=1)  # values are positive: saturation is the cumulative sum
        g_expert = expert[group_starts[g_ids]]
        e_ids, e_local = np.unique(g_expert, return_inverse=True)
        e_cap = slots[e_ids]
        e_room = universities[e_ids]
        g_first = np.r_[True, g_expert[1:] != g_expert[:-1]]
        e_first = np.flatnonzero(g_first)
        best = np.maximum.reduceat(prefix, e_first, axis=0)  # (experts, max_cap + 1)
        # Which group reaches the best, and the best among the others.
        is_best = prefix == best[e_local]
        g_index = np.arange(len(g_ids))[:, None]
        best_group = np.minimum.reduceat(np.where(is_best, g_index, len(g_ids)), e_first, axis=0)
        others = np.where(g_index == best_group[e_local], -np.inf, prefix)
        second = np.maximum.reduceat(others, e_first, axis=0)
        none = len(g_ids)
        second_group = np.minimum.reduceat(
            np.where((others == second[e_local]) & np.isfinite(others), g_index, none), e_first, axis=0
        )
        second = np.where(np.isfinite(second), second, 0.0)  # no other group: an empty one
        rows = np.arange(len(e_ids))
        plan = best[rows, e_cap]
        # The plan's groups and how many values each gives (group `none`: nothing).
        group_a, count_a = best_group[rows, e_cap], e_cap.copy()
        group_b, count_b = np.full(len(e_ids), none), np.zeros(len(e_ids), dtype=np.int64)
        two = e_room == 2
        for k1 in range(1, max_cap):
            k2 = e_cap - k1
            valid = two & (k2 >= 1)
            if not valid.any():
                continue
            k2 = np.maximum(k2, 0)
            b1, b2 = best[rows, k1], best[rows, k2]
            same = best_group[rows, k1] == best_group[rows, k2]
            first_second = b1 + second[rows, k2]
            second_first = second[rows, k1] + b2
            combined = np.where(same, np.maximum(first_second, second_first), b1 + b2)
            better = valid & (combined > plan)
            plan = np.where(better, combined, plan)
            swap = same & (second_first > first_second)
            group_a = np.where(better, np.where(swap, second_group[rows, k1], best_group[rows, k1]), group_a)
            group_b = np.where(better, np.where(same & ~swap, second_group[rows, k2], best_group[rows, k2]), group_b)
            count_a = np.where(better, k1, count_a)
            count_b = np.where(better, k2, count_b)
        bound += float(plan.sum())
        row_of = e_local[g_local]
        rank = rank_in_group[search]
        take = ((g_local == group_a[row_of]) & (rank < count_a[row_of])) | (
            (g_local == group_b[row_of]) & (rank < count_b[row_of])
        )
        taken += np.bincount(demand[search][take], minlength=compiled.n_demands)

    # Anything else (groups held through fixed pairs, three or more universities): exact search.
    expert_ends = np.r_[expert_starts[1:], n]
    for i in np.flatnonzero(rest).tolist():
        start, end, e = int(expert_starts[i]), int(expert_ends[i]), int(experts_here[i])
        if slots[e] <= 0:
            continue
        local_new = new_group[start:end]
        starts = np.flatnonzero(local_new)
        groups = np.split(value[start:end], starts[1:])
        held = [not bool(opens[start + s]) for s in starts]
        bound += _best_plan(groups, held, int(slots[e]), int(universities[e]))
    return bound, taken


def idle_expert_prices(compiled: CompiledInstance, weight: float, chosen: np.ndarray) -> np.ndarray:
    """Demand prices read off an assignment: a slot costs the best score a not-yet-full expert offers it.

    A market-clearing guess: an expert `chosen` leaves with room for another
    university (fewer slots than min(slots, universities)) should want nothing more
    at these prices. Cheap, and close to the LP's demand duals when experts are
    plentiful. Any non-negative prices give a valid bound; these only aim to make
    it tight.
    """
    free = compiled.free
    expert = compiled.edge_expert[free]
    demand = compiled.edge_demand[free]
    load = np.bincount(expert[np.asarray(chosen, dtype=np.int64)], minlength=compiled.n_experts)
    room = np.minimum(compiled.residual_slots, compiled.residual_universities)
    spare = np.flatnonzero((load < room)[expert])
    best_spare = np.zeros(compiled.n_demands)
    np.maximum.at(best_spare, demand[spare], compiled.edge_score[free][spare])
    return weight + best_spare


def flow_prices(
    compiled: CompiledInstance, weight: float, chosen: np.ndarray, start: np.ndarray | None = None, max_rounds: int = 100
) -> np.ndarray:
    """Demand prices completing `chosen` to a dual of the slot-capped flow network, by longest paths.

    `chosen` is read as a flow in the network where each expert carries at most
    min(slots, universities) slots (the warm start's network). Experts with room left
    are worth zero, so each demand costs at least the best value such an expert offers
    on an edge it does not use (an edge in use is covered by its own x <= 1 dual, which
    the per-expert plans respect: an expert takes a demand once); an expert at its cap is worth the least
    value its own edges leave it, min over them of (weight + score - price), and every
    other edge of that expert may not beat it, which raises that demand's price. Prices
    only go up, so this settles after as many rounds as the longest alternating path
    (a few dozen on the national tier; `max_rounds` caps it when `chosen` is not an
    optimal flow). Close to the network's own potentials, hence to market-clearing
    prices; as for any non-negative prices, the per-expert bound at them is valid.
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    free = compiled.free
    expert = compiled.edge_expert[free]
    demand = compiled.edge_demand[free]
    cap = np.maximum(compiled.residual_slots, 0)
    cap = np.where(compiled.residual_universities > 0, np.minimum(cap, compiled.residual_universities), cap)
    load = np.bincount(expert[chosen], minlength=compiled.n_experts)
    at_cap = load >= cap
    used = np.zeros(len(free), dtype=bool)
    used[chosen] = True
    if start is None:
        price = np.zeros(compiled.n_demands)
        spare = np.flatnonzero(~at_cap[expert] & ~used)
        np.maximum.at(price, demand[spare], weight + compiled.edge_score[free][spare])
    else:
        price = np.maximum(start, 0.0).astype(np.float64)
    if len(chosen) == 0 or len(free) == 0:
        return price
    others = np.flatnonzero(at_cap[expert] & ~used)
    if len(others) == 0:
        return price
    others = others[np.argsort(demand[others], kind="stable")]
    other_demand = demand[others]
    other_expert = expert[others]
    other_value = weight + compiled.edge_score[free][others]
    group_starts = np.flatnonzero(np.r_[True, other_demand[1:] != other_demand[:-1]])
    group_demand = other_demand[group_starts]
    used_expert, used_demand = expert[chosen], demand[chosen]
    used_value = weight + compiled.edge_score[free][chosen]
    held = used_expert[at_cap[used_expert]]
    for _ in range(max_rounds):
        worth = np.zeros(compiled.n_experts)
        least = np.full(compiled.n_experts, np.inf)
        np.minimum.at(least, used_expert, used_value - price[used_demand])
        worth[held] = np.maximum(least[held], 0.0)
        offer = np.maximum.reduceat(other_value - worth[other_expert], group_starts)
        raised = offer > price[group_demand] + 1e-12
        if not raised.any():
            break
        price[group_demand[raised]] = offer[raised]
    return price

