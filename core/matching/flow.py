"""Min-cost-flow assignment: the fast, slot-capped relaxation flow matchers use.

A flow network cannot say "distinct universities", only "at most c slots". Capping
each expert at min(slots, universities) makes every flow answer feasible for the
real rule (c slots can touch at most c universities), so it serves both as the
openreview-style baseline and as the solver's warm start. It is optimal only when
nobody would want two courses at one university.

Both networks here are solved as LPs by HiGHS (see `core.matching.lp`): one column
per pair, a row per demand (need), per expert (slots) and, for the held-university
network, per expert for the edges that open a new university (a subset of the
expert's edges). Demand rows and the nested expert rows form two laminar families,
so the matrix is totally unimodular (it is a network matrix) and every vertex the
simplex method ends on is integral; `_max_flow_min_cost` checks that it is.
Max flow first, then best score, is one objective: each pair is worth W + score
with W = slots to fill + 1, more than any total score. The national tier has ~5M
pairs, so columns are generated: each demand's best pairs first, then, from the
LP's row duals, the pairs of the whole network that could still improve it, until
none can (the LP is then optimal for the whole network).
"""
from __future__ import annotations

import time

import highspy
import numpy as np

from core.matching.lp import INTEGRALITY_TOLERANCE, PRICING_TOLERANCE, add_empty_rows, new_highs, solved_optimally
from core.matching.model import CompiledInstance

__all__ = ["held_university_flow", "min_cost_flow_assignment", "top_per_group"]

# Columns each demand starts with: a few per slot it needs; pricing adds the rest.
START_PER_SLOT = 6
START_PER_EXPERT_SLOT = 3
START_EXTRA = 3
# Columns added per slot of a demand in each pricing round (6 rather than 2: at L,
# the re-solves after each round cost more than the extra columns; ~20 % less LP time).
PRICED_PER_SLOT = 6
# Ties among equal scores are broken by a seeded random order, so each demand's first
# columns are not all the same few experts.
TIE_SCALE = 1e-7


def min_cost_flow_assignment(
    compiled: CompiledInstance,
    among: np.ndarray | None = None,
    *,
    universities_per_slot_cap: bool = True,
    time_limit: float | None = None,
) -> np.ndarray:
    """Free-edge positions (into `compiled.free`) of a max-flow, max-score assignment.

    With `universities_per_slot_cap` each expert carries at most min(slots, universities)
    slots, which keeps the answer feasible; without it, only the slot cap applies and
    the result may break the university rule (useful to measure how often it would).
    `among` restricts the flow to those free-edge positions (a warm start need not see
    every edge). With `time_limit` (seconds) no pricing round starts that would likely
    end past it: the answer is then the best flow over the pairs priced in so far (still
    feasible, maybe not the best of the whole network); the first LP always completes.
    """
    positions = np.arange(len(compiled.free)) if among is None else np.asarray(among, dtype=np.int64)
    free = compiled.free[positions]
    if len(free) == 0:
        return np.zeros(0, dtype=np.int64)
    expert_cap = compiled.residual_slots.copy()
    if universities_per_slot_cap:
        # An expert with no university left can still add courses where it already is
        # (all its free edges are then such edges), so only cap when a university is open.
        opens_left = compiled.residual_universities > 0
        expert_cap = np.where(opens_left, np.minimum(expert_cap, compiled.residual_universities), expert_cap)
    chosen = _max_flow_min_cost(
        compiled,
        expert=compiled.edge_expert[free],
        demand=compiled.edge_demand[free],
        score=compiled.edge_score[free],
        tie=_tie_breaker(compiled, positions),
        expert_cap=expert_cap,
        time_limit=time_limit,
    )
    return positions[chosen]


def held_university_flow(
    compiled: CompiledInstance, chosen: np.ndarray, among: np.ndarray | None = None, *, time_limit: float | None = None
) -> np.ndarray:
    """A better-or-equal assignment keeping each expert's universities in `chosen` open.

    Local search step beyond the slot-capped flow: each expert keeps the universities
    `chosen` gives it (plus those held through fixed pairs) and may take any number
    of courses there up to its slot cap, and at most (universities left) edges to
    other universities, one university each at worst. Every flow in that network is
    feasible for the real rule, and `chosen` is one of them, so the min-cost flow
    (most slots, then best score) is never worse; so is the best flow over the pairs
    priced in when `time_limit` (as for `min_cost_flow_assignment`) stops the pricing.
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    positions = np.arange(len(compiled.free)) if among is None else np.union1d(np.asarray(among, dtype=np.int64), chosen)
    free = compiled.free[positions]
    if len(free) == 0:
        return np.zeros(0, dtype=np.int64)
    n_e = compiled.n_experts
    n_u = len(compiled.university_ids) + 1
    edge_expert = compiled.edge_expert[free]
    edge_demand = compiled.edge_demand[free]
    keys = edge_expert * n_u + compiled.demand_university[edge_demand]
    # Universities held through fixed pairs are already out of residual_universities.
    chosen_free = compiled.free[chosen[compiled.free_opens_university[chosen]]]
    held_keys = np.unique(
        compiled.edge_expert[chosen_free] * n_u + compiled.demand_university[compiled.edge_demand[chosen_free]]
    )
    inside = np.isin(keys, held_keys) | ~compiled.free_opens_university[positions]
    room = np.maximum(compiled.residual_universities - np.bincount(held_keys // n_u, minlength=n_e), 0)
    # `chosen` lies inside its own held universities: a feasible start for the LP.
    start = np.searchsorted(positions, chosen)
    picked = _max_flow_min_cost(
        compiled,
        expert=edge_expert,
        demand=edge_demand,
        score=compiled.edge_score[free],
        tie=_tie_breaker(compiled, positions),
        expert_cap=compiled.residual_slots,
        outside=~inside,
        room=room,
        start=start,
        time_limit=time_limit,
    )
    return positions[picked]


def _tie_breaker(compiled: CompiledInstance, positions: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per free-edge position (a multiplicative hash)."""
    return (positions.astype(np.uint64) * np.uint64(2654435761) % np.uint64(1 << 32)).astype(np.float64) / float(1 << 32)


def top_per_group(demand: np.ndarray, key: np.ndarray, take: np.ndarray) -> np.ndarray:
    """Indices of the `take[g]` largest keys of each group g (`demand`: the group of each
    item, demands or experts; ties at the threshold all kept).

    One value sort of a composite key (demand ascending, key descending), no argsort:
    ~10x faster than a lexsort on millions of pairs.
    """
    if len(demand) == 0:
        return np.zeros(0, dtype=np.int64)
    high = float(key.max())
    span = high - float(key.min()) + 1.0
    composite = demand * span + (high - key)
    ordered = np.sort(composite)
    counts = np.bincount(demand, minlength=len(take))
    starts = np.cumsum(counts) - counts
    keep = np.minimum(take, counts)
    threshold = np.full(len(take), -np.inf)
    some = np.flatnonzero(keep > 0)
    threshold[some] = ordered[starts[some] + keep[some] - 1]
    return np.flatnonzero(composite <= threshold[demand])


def _max_flow_min_cost(
    compiled: CompiledInstance,
    *,
    expert: np.ndarray,
    demand: np.ndarray,
    score: np.ndarray,
    tie: np.ndarray,
    expert_cap: np.ndarray,
    outside: np.ndarray | None = None,
    room: np.ndarray | None = None,
    start: np.ndarray | None = None,
    time_limit: float | None = None,
) -> np.ndarray:
    """Indices of the pairs a max-flow, max-score assignment uses.

    Pair i joins demand[i] to expert[i]; each demand takes at most its need left, each
    expert at most expert_cap pairs and, of its `outside` pairs, at most `room`.
    `start` (indices) is a feasible assignment to begin the columns with.
    """
    started = time.perf_counter()
    n_e, n_d = compiled.n_experts, compiled.n_demands
    need = np.maximum(compiled.residual_need, 0)
    cap = np.maximum(expert_cap, 0)
    usable = (need[demand] > 0) & (cap[expert] > 0)
    if outside is not None:
        usable &= ~outside | (room[expert] > 0)
    if usable.all():
        pairs = np.arange(len(usable))
        out = outside
    else:
        pairs = np.flatnonzero(usable)
        if len(pairs) == 0:
            return pairs
        expert, demand, score, tie = expert[pairs], demand[pairs], score[pairs], tie[pairs]
        out = outside[pairs] if outside is not None else None
    value = float(need.sum() + 1) + score

    highs = new_highs()
    add_empty_rows(highs, need)
    add_empty_rows(highs, cap)
    if out is not None:
        add_empty_rows(highs, room)
    in_lp = np.zeros(len(pairs), dtype=bool)
    columns: list[np.ndarray] = []

    def add(new: np.ndarray) -> None:
        new = new[~in_lp[new]]
        if len(new) == 0:
            return
        counts = np.full(len(new), 2, dtype=np.int64)
        if out is not None:
            counts += out[new]
        begin = np.concatenate([[0], np.cumsum(counts)[:-1]])
        index = np.empty(int(counts.sum()), dtype=np.int32)
        index[begin] = demand[new]
        index[begin + 1] = n_d + expert[new]
        if out is not None:
            extra = np.flatnonzero(out[new])
            index[begin[extra] + 2] = n_d + n_e + expert[new[extra]]
        k = len(new)
        highs.addCols(
            k, -value[new], np.zeros(k), np.ones(k), len(index), begin.astype(np.int32), index, np.ones(len(index))
        )
        in_lp[new] = True
        columns.append(new)

    key = score + TIE_SCALE * tie
    # Each demand's best pairs, and each expert's: the first LP then has room to route around contention.
    first = np.union1d(
        top_per_group(demand, key, START_PER_SLOT * need + START_EXTRA),
        top_per_group(expert, key, START_PER_EXPERT_SLOT * cap + START_EXTRA),
    )
    if start is not None and len(start):
        local = np.searchsorted(pairs, start)
        local = local[(local < len(pairs)) & (pairs[np.minimum(local, len(pairs) - 1)] == start)]
        first = np.union1d(first, local)
    add(first)
    while True:
        round_started = time.perf_counter()
        highs.run()
        if not solved_optimally(highs):
            raise RuntimeError(f"min cost flow LP failed with status {highs.getModelStatus()}")
        # A minimisation's <= rows have non-positive duals; the maximisation's are their negation.
        dual = np.maximum(-np.asarray(highs.getSolution().row_dual), 0.0)
        reduced = value - dual[demand]
        reduced -= dual[n_d:][expert]
        if out is not None:
            reduced -= np.where(out, dual[n_d + n_e :][expert], 0.0)
        reduced[in_lp] = 0.0
        entering = np.flatnonzero(reduced > PRICING_TOLERANCE)
        if len(entering) == 0:
            break
        now = time.perf_counter()
        if time_limit is not None and now - started + (now - round_started) > time_limit:
            break  # the LP optimum over the columns at hand: an integral vertex, a feasible flow
        picked = top_per_group(demand[entering], reduced[entering], PRICED_PER_SLOT * need)
        basis = highs.getBasis()
        add(entering[picked])
        # An entering column at its upper bound (x = 1) is dual feasible, so the basis stays
        # dual feasible and the dual simplex goes on from it (at a lower bound it would be
        # dual infeasible: the dual simplex then restarts with a phase 1, the primal
        # simplex is ~5x slower per iteration here; both took 3-10x longer on the L tier).
        basis.col_status = list(basis.col_status) + [highspy.HighsBasisStatus.kUpper] * (
            highs.getNumCol() - len(basis.col_status)
        )
        highs.setBasis(basis)

    x = np.asarray(highs.getSolution().col_value)
    order = np.concatenate(columns)
    if np.all(np.abs(x - np.rint(x)) <= INTEGRALITY_TOLERANCE):
        used = order[x > 0.5]
    else:  # not expected at a simplex vertex of a network LP; whole pairs alone stay feasible
        used = order[x >= 1.0 - INTEGRALITY_TOLERANCE]
    return pairs[np.sort(used)]
