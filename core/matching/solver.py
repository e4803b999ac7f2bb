"""Exact matching under "at most N distinct universities per expert".

Objective, lexicographic: most filled slots, then highest total score. It is folded
into one linear objective by giving every slot a weight W larger than any total
score (W = slots to fill + 1), so one filled slot always beats any score gain.

Stages:
0. above `prune.PRUNE_ABOVE_EDGES` pairs (the national tiers), each demand's best pairs
   only (`core.matching.prune`; an instance built by `scoring.build_instance` comes with
   them already, and `Instance.dropped_below` says what was left out); the bounds then
   hold for every candidate pair through a price floor, and stages 3-4 (whose bounds
   would not) are skipped;
1. min-cost flow with slots capped at the university cap (a network LP, solved by
   HiGHS with column generation): feasible, integral; the first answer. When it
   clearly cannot finish in the time left (`_flow_seconds`; the XL tier), a greedy
   start (`local_search.greedy_assignment`) instead;
2. a first proven bound without any LP: the per-expert (Lagrangian) bound at the flow
   network's own prices by longest alternating paths (`lagrangian.flow_prices`),
   valid for any prices (on small instances also at `lagrangian.idle_expert_prices`;
   without a flow, only those, read off the final answer);
2b. local search on the real rule (`core.matching.local_search`): replacement moves
   (experts with slots left take slots from weaker pairs, chained over rounds), then
   relocation moves (an expert with no university left gives up one to take several
   courses at another), then, with time for it, the held-university flow
   (`flow.held_university_flow`) and replacement again; each never worse. At L this
   is what moves the answer: 2974.8 (flow) -> 2978.1 (replacement) -> 2982.8;
3. LP relaxation over a reduced candidate set (each demand's best edges plus the
   flow's), grown by column generation: LP duals price every edge of the full
   instance and edges that could improve the LP are added; each LP point is also
   rounded (whole edges kept, the rest added greedily) into a feasible answer.
   Bounds are computed here from the duals rather than taken on the LP solver's
   word: the duals completed for every edge left out (weak duality), and the
   per-expert bound at the LP's demand duals. Skipped when too little time is left
   to set it up (national instances under a 10 s limit);
4. unless the gap is already closed, a MIP on the reduced set; its own bound and the
   duals' slacks on edges left out then bound every solution, so a MIP optimum on
   the reduced set is proven optimal for the whole instance when nothing outside
   can beat it.
The answer is checked against every constraint before it is returned. The time
limit covers everything the caller waits for: compiling and the first flow (or the
greedy start) always run; the later stages stop early enough to leave time for the
check and diagnostics.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any

import numpy as np

from core.matching.diagnostics import StabilityReport, UnfilledSlot, explain_unfilled, stability_report
from core.matching.flow import held_university_flow, min_cost_flow_assignment, top_per_group
from core.matching.instance import Instance
from core.matching.lp import INTEGRALITY_TOLERANCE, PRICING_TOLERANCE
from core.matching.lagrangian import flow_prices, idle_expert_prices, lagrangian_bound
from core.matching.local_search import greedy_assignment, improve_by_relocation, improve_by_replacement
from core.matching.master import Duals, MasterProblem
from core.matching.model import CompiledInstance, compile_instance
from core.matching.prune import prune_instance

__all__ = ["Solution", "check_assignment", "solve"]

# Candidate edges per demand at the start: a few per slot, so contention can be resolved
# without pricing in most cases; column generation adds the rest when needed.
CANDIDATES_PER_SLOT = 4
CANDIDATES_EXTRA = 4
# Columns added per demand per pricing round.
PRICED_PER_DEMAND = 4
MAX_PRICING_ROUNDS = 30
# Relative score gap under which an answer is called optimal (solver tolerances are ~1e-9).
OPTIMALITY_TOLERANCE = 1e-6
# The LP stage starts only with at least this much time per free edge left (2 s at 5M edges).
LP_MIN_SECONDS_PER_EDGE = 4e-7
# Under a time limit, the share of the time left the held-university flow may take (its
# pricing then stops early, with a flow over the pairs priced so far, never worse than the
# first flow). The first flow always completes, as the docstring promises: on the national
# tier stopping it early cost more score (~0.5 %) than the time it saved could win back.
HELD_FLOW_TIME_SHARE = 0.5
# Under a time limit, the share of the time left each replacement local search may take.
REPLACEMENT_TIME_SHARE = 0.5
# The held-university flow starts only with this much time per free edge left (3 s at 5M).
HELD_FLOW_MIN_SECONDS_PER_EDGE = 6e-7
# Time the idle-price bound takes (~1 s at 3.7M pairs), kept for it when there is no flow.
IDLE_BOUND_SECONDS_PER_EDGE = 3e-7
# Above this many free pairs the per-expert bound is computed over groups of experts.
BOUND_CHUNK_EDGES = 1_500_000
# See `_flow_seconds`: the first flow runs only when this estimate fits in the time left.
FLOW_SECONDS_PER_EDGE_EXPERT = 6e-10
# Above this many pairs, candidates are picked by one value sort instead of a lexsort (3 s at 5M).
FAST_SELECTION_EDGES = 200_000
# Tie-breaker weight in that sort: below the 1e-6 resolution of the scores.
TIE_WEIGHT = 1e-7
# Time kept after the search for the feasibility check and the diagnostics (~0.25 s at 5M edges).
POST_SECONDS_PER_EDGE = 5e-8
POST_SECONDS_FIXED = 0.05


@dataclass(frozen=True)
class Solution:
    assignments: tuple[tuple[str, str], ...]
    filled: int
    score: float
    # Upper bound on the score of any solution filling at least as many slots as this one.
    bound: float
    # No solution fills more than this many slots.
    filled_bound: int
    total_need: int
    gap: float
    time_s: float
    status: str  # "optimal" | "feasible"
    unfilled: tuple[UnfilledSlot, ...] = ()
    stability: StabilityReport | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignments": [list(pair) for pair in self.assignments],
            "filled": self.filled,
            "score": round(self.score, 9),
            "bound": round(self.bound, 9),
            "gap": round(self.gap, 9),
            "time_s": round(self.time_s, 4),
            "status": self.status,
            "filled_bound": self.filled_bound,
            "total_need": self.total_need,
            "unfilled": [slot.to_dict() for slot in self.unfilled],
            "stability": self.stability.to_dict() if self.stability else None,
            "stats": self.stats,
        }


def _violations(compiled: CompiledInstance, chosen: np.ndarray) -> list[str]:
    """Constraints broken by a set of edge positions (forbidden edges are already gone)."""
    violations: list[str] = []
    if len(np.unique(chosen)) != len(chosen):
        violations.append("a pair is assigned twice")
    demand_load = np.bincount(compiled.edge_demand[chosen], minlength=compiled.n_demands)
    for d in np.flatnonzero(demand_load > compiled.need).tolist():
        violations.append(f"demand {compiled.demand_ids[d]!r} gets {demand_load[d]} > need {compiled.need[d]}")
    expert_load = np.bincount(compiled.edge_expert[chosen], minlength=compiled.n_experts)
    for e in np.flatnonzero(expert_load > compiled.max_slots).tolist():
        violations.append(f"expert {compiled.expert_ids[e]!r} has {expert_load[e]} > max_slots {compiled.max_slots[e]}")
    pairs = np.unique(
        compiled.edge_expert[chosen] * (len(compiled.university_ids) + 1)
        + compiled.demand_university[compiled.edge_demand[chosen]]
    )
    universities = np.bincount(pairs // (len(compiled.university_ids) + 1), minlength=compiled.n_experts)
    for e in np.flatnonzero(universities > compiled.max_universities).tolist():
        violations.append(
            f"expert {compiled.expert_ids[e]!r} serves {universities[e]} > max_universities {compiled.max_universities[e]}"
        )
    missing = np.setdiff1d(compiled.fixed_edges, chosen)
    for i in missing.tolist():
        violations.append(
            f"fixed {(compiled.expert_ids[compiled.edge_expert[i]], compiled.demand_ids[compiled.edge_demand[i]])!r} is missing"
        )
    return violations


def check_assignment(instance: Instance, assignments: Iterable[tuple[str, str]]) -> list[str]:
    """Every constraint the assignment breaks; empty when it is feasible."""
    compiled = compile_instance(instance)
    expert_index = {e: i for i, e in enumerate(compiled.expert_ids)}
    demand_index = {d: i for i, d in enumerate(compiled.demand_ids)}
    n_demands = max(compiled.n_demands, 1)
    edge_keys = compiled.edge_expert * n_demands + compiled.edge_demand
    order = np.argsort(edge_keys)
    sorted_keys = edge_keys[order]
    violations: list[str] = []
    chosen: list[int] = []
    for pair in assignments:
        expert_id, demand_id = pair
        if pair in instance.forbidden:
            violations.append(f"{tuple(pair)!r} is forbidden")
            continue
        if expert_id not in expert_index or demand_id not in demand_index:
            violations.append(f"{tuple(pair)!r} is not an allowed edge")
            continue
        key = expert_index[expert_id] * n_demands + demand_index[demand_id]
        position = int(np.searchsorted(sorted_keys, key))
        if position >= len(sorted_keys) or sorted_keys[position] != key:
            violations.append(f"{tuple(pair)!r} is not an allowed edge")
            continue
        chosen.append(int(order[position]))
    return violations + _violations(compiled, np.asarray(chosen, dtype=np.int64))


class _Deadline:
    def __init__(self, time_limit: float | None):
        self.start = time.perf_counter()
        self.end = None if time_limit is None else self.start + max(time_limit, 0.0)

    def keep(self, seconds: float) -> None:
        """End the search this much earlier, for work that must follow it."""
        if self.end is not None:
            self.end = max(self.end - seconds, self.start)

    def remaining(self) -> float | None:
        return None if self.end is None else max(self.end - time.perf_counter(), 0.0)

    def expired(self) -> bool:
        return self.end is not None and time.perf_counter() >= self.end

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def _share(deadline: _Deadline, share: float) -> float | None:
    remaining = deadline.remaining()
    return None if remaining is None else share * remaining


def _reduced_costs(compiled: CompiledInstance, duals: Duals, weight: float) -> np.ndarray:
    """Reduced cost of every free edge with its link dual taken as zero."""
    free = compiled.free
    return (
        weight
        + compiled.edge_score[free]
        - duals.demand[compiled.edge_demand[free]]
        - duals.slots[compiled.edge_expert[free]]
    )


def _dual_bound(compiled: CompiledInstance, master: MasterProblem, duals: Duals, reduced: np.ndarray) -> float:
    """Weak-duality upper bound on the full LP (hence on every integer solution).

    Any non-negative row duals extend to a dual-feasible point: each edge's bound
    dual (x <= 1) absorbs what the row duals leave uncovered, each (expert,
    university) pair's bound dual (y <= 1) absorbs the link duals its university
    row does not cover. Summing it all is an upper bound whatever the LP solver's
    tolerances were, and covers the edges never added to the master.
    """
    reduced = reduced.copy()
    reduced[master.positions] -= duals.link
    bound = float(np.maximum(reduced, 0.0).sum())
    bound += float(compiled.residual_need.clip(min=0) @ duals.demand)
    bound += float(compiled.residual_slots.clip(min=0) @ duals.slots)
    bound += float(compiled.residual_universities.clip(min=0) @ duals.universities)
    if master.y_columns:
        pair_expert = np.asarray(master.pair_expert, dtype=np.int64)
        bound += float(np.maximum(master.link_sums(duals.link) - duals.universities[pair_expert], 0.0).sum())
    return bound


def _tie_breaker(compiled: CompiledInstance) -> np.ndarray:
    """A fixed pseudo-random order among equal scores.

    Scores come from a few discrete terms, so a demand often has dozens of equally
    good candidates; picking them by position would hand every demand the same few
    experts and make column generation discover the others one round at a time.
    Seeded, so the same instance always gives the same answer.
    """
    return np.random.default_rng(0).random(len(compiled.free))


def _initial_candidates(
    compiled: CompiledInstance, warm: np.ndarray, tie_breaker: np.ndarray, per_slot: int = CANDIDATES_PER_SLOT
) -> np.ndarray:
    free = compiled.free
    demand = compiled.edge_demand[free]
    score = compiled.edge_score[free]
    keep_per_demand = per_slot * compiled.residual_need + CANDIDATES_EXTRA
    if len(free) > FAST_SELECTION_EDGES:
        chosen = top_per_group(demand, np.round(score, 6) + TIE_WEIGHT * tie_breaker, np.maximum(keep_per_demand, 0))
        return np.union1d(chosen, warm)
    # Best edges of each demand first: sort by demand, then score descending.
    order = np.lexsort((tie_breaker, -score, demand))
    sorted_demand = demand[order]
    starts = np.searchsorted(sorted_demand, sorted_demand, side="left")
    rank = np.arange(len(order)) - starts
    chosen = order[rank < keep_per_demand[sorted_demand]]
    return np.union1d(chosen, warm)


def _top_positive_per_demand(
    compiled: CompiledInstance, reduced: np.ndarray, excluded: np.ndarray, tie_breaker: np.ndarray
) -> np.ndarray:
    positive = np.flatnonzero((reduced > PRICING_TOLERANCE) & ~excluded)
    if len(positive) == 0:
        return positive
    demand = compiled.edge_demand[compiled.free[positive]]
    if len(positive) > FAST_SELECTION_EDGES:
        take = PRICED_PER_DEMAND * np.maximum(compiled.residual_need, 1)
        key = np.round(reduced[positive], 6) + TIE_WEIGHT * tie_breaker[positive]
        return positive[top_per_group(demand, key, take)]
    # Rounded so that LP noise does not defeat the tie-breaker.
    order = np.lexsort((tie_breaker[positive], -np.round(reduced[positive], 9), demand))
    sorted_demand = demand[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_demand, sorted_demand, side="left")
    return positive[order[rank < PRICED_PER_DEMAND * np.maximum(compiled.residual_need[sorted_demand], 1)]]


def _round_and_complete(
    compiled: CompiledInstance, positions: np.ndarray, lp_x: np.ndarray, tie_breaker: np.ndarray
) -> np.ndarray:
    """A feasible assignment from an LP point: keep its whole edges, then add greedily.

    Edges at 1 are jointly feasible (their universities' y are 1 too); the rest go in
    by LP value, then score, while need, slots and universities allow.
    """
    edges = compiled.free[positions]
    expert = compiled.edge_expert[edges]
    demand = compiled.edge_demand[edges]
    university = compiled.demand_university[demand]
    order = np.lexsort((tie_breaker[positions], -compiled.edge_score[edges], -np.round(lp_x, 6)))
    need_left = compiled.residual_need.copy()
    slots_left = compiled.residual_slots.copy()
    universities_left = compiled.residual_universities.copy()
    held = [set(s) for s in compiled.fixed_universities]
    chosen: list[int] = []
    for i in order.tolist():
        e, d, u = int(expert[i]), int(demand[i]), int(university[i])
        if need_left[d] <= 0 or slots_left[e] <= 0:
            continue
        if u not in held[e]:
            if universities_left[e] <= 0:
                continue
            held[e].add(u)
            universities_left[e] -= 1
        need_left[d] -= 1
        slots_left[e] -= 1
        chosen.append(i)
    return positions[np.asarray(chosen, dtype=np.int64)]


def _is_integral(x: np.ndarray) -> bool:
    return bool(np.all(np.minimum(np.abs(x), np.abs(1 - x)) <= INTEGRALITY_TOLERANCE))


def _chunked_lagrangian_bound(compiled: CompiledInstance, weight: float, prices: np.ndarray) -> float:
    """`lagrangian_bound`, over groups of experts when the pairs are many (its sorts copy
    every pair with a positive value several times: ~400 MB at 3M pairs, a quarter per group)."""
    groups = int(np.ceil(len(compiled.free) / BOUND_CHUNK_EDGES))
    if groups <= 1:
        return lagrangian_bound(compiled, weight, prices)
    # The bound is sum(need * price) plus one best plan per expert: split the experts.
    base = float(compiled.residual_need.clip(min=0) @ np.maximum(prices, 0.0))
    expert_of_free = compiled.edge_expert[compiled.free]
    edges_before = np.cumsum(np.bincount(expert_of_free, minlength=compiled.n_experts))
    group_of_expert = np.minimum(edges_before * groups // max(len(compiled.free), 1), groups - 1)
    group_of_free = group_of_expert[expert_of_free]
    del expert_of_free
    total = base
    for g in range(groups):
        part = np.flatnonzero(group_of_free == g)
        if len(part) == 0:
            continue
        view = dataclasses.replace(
            compiled, free=compiled.free[part], free_opens_university=compiled.free_opens_university[part]
        )
        total += lagrangian_bound(view, weight, prices) - base
    return total


def _flow_seconds(compiled: CompiledInstance) -> float:
    """A rough (pessimistic) time for the first min-cost flow: its LPs grow with pairs and experts.

    On this 2-core machine: ~5 s at L pruned (1.2M pairs, 10k experts), ~150 s at XL
    pruned (3.7M pairs, 50k experts).
    """
    return FLOW_SECONDS_PER_EDGE_EXPERT * len(compiled.free) * compiled.n_experts


def _value(compiled: CompiledInstance, chosen: np.ndarray, weight: float) -> float:
    return weight * len(chosen) + float(compiled.edge_score[compiled.free[chosen]].sum())


def solve(
    instance: Instance,
    *,
    time_limit: float | None = None,
    gap_tolerance: float = OPTIMALITY_TOLERANCE,
    diagnostics: bool = True,
) -> Solution:
    """Best assignment: most filled slots, then highest total score; optimal or with a proven gap.

    `time_limit` (seconds) bounds the optimisation; the best answer found so far comes
    back with the bound proven so far. `gap_tolerance` stops the search once the proven
    relative score gap is that small. `diagnostics` adds unfilled-slot reasons and
    the stability report (linear in the edges, but skippable for benchmarks).
    """
    deadline = _Deadline(time_limit)
    instance_edges = len(instance.edges)
    # National batches (above 2M pairs): each demand's best pairs only (see `core.matching.prune`).
    instance, floor = prune_instance(instance)
    compiled = compile_instance(instance)
    # The limit covers what the caller waits for: keep time for the check and the diagnostics.
    deadline.keep(POST_SECONDS_PER_EDGE * len(compiled.edge_expert) * (2 if diagnostics else 1) + POST_SECONDS_FIXED)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    stats: dict[str, Any] = {"edges": int(len(compiled.edge_expert)), "free_edges": int(len(compiled.free))}
    if floor is not None:
        stats["instance_edges"] = int(instance_edges)

    def price_bound(prices: np.ndarray) -> float:
        """The per-expert bound; on a pruned instance at prices no dropped pair is worth taking."""
        if floor is not None:
            prices = np.maximum(prices, weight + floor)
        return _chunked_lagrangian_bound(compiled, weight, prices)

    stats["compile_s"] = round(deadline.elapsed(), 3)
    tie_breaker = _tie_breaker(compiled)
    # Over every edge: each demand's best edges alone are contended by the same few
    # experts and would leave slots empty that the full flow fills. When the flow clearly
    # cannot finish in the time (the XL tier: ~150 s), a greedy start instead, which the
    # local search below then repairs (at XL it fills all but a few slots in ~10 s).
    remaining = deadline.remaining()
    flow_fits = remaining is None or _flow_seconds(compiled) <= remaining
    if flow_fits:
        warm = min_cost_flow_assignment(compiled)
        stats["flow_s"] = round(deadline.elapsed(), 3)
        stats["flow_filled"] = int(len(warm))
    else:
        warm = greedy_assignment(compiled)
        stats["greedy_s"] = round(deadline.elapsed(), 3)
        stats["greedy_filled"] = int(len(warm))
    best = warm
    best_value = _value(compiled, warm, weight)
    # Before any dual information: every slot that has a free edge filled at score 1.
    # (On a pruned instance a demand may have lost pairs that could fill it: every slot counts.)
    reachable = (
        compiled.residual_need.clip(min=0).sum()
        if floor is not None
        else np.minimum(
            compiled.residual_need.clip(min=0),
            np.bincount(compiled.edge_demand[compiled.free], minlength=compiled.n_demands),
        ).sum()
    )
    bound_value = float((weight + 1.0) * reachable)

    def gap_closed() -> bool:
        return bound_value - best_value <= gap_tolerance * max(best_value - weight * len(best), 1.0)

    if len(compiled.free):
        # A first proven bound before any LP: the per-expert bound at prices read off the flow.
        # (Subgradient steps from there were tried: on the national tier they gain < 0.1 % per
        # dozen 0.2 s steps, the scores' many ties make the subgradients uninformative.)
        # The flow network's own prices (longest alternating paths) come first, whatever the
        # time: ~0.6 s at 5M pairs, and on national instances the bound they give (0.4 %
        # from the flow) is what the LP stage does not beat even in minutes.
        if flow_fits:
            bound_value = min(bound_value, price_bound(flow_prices(compiled, weight, warm)))
        # Prices read off idle experts: looser at scale (1 % at L, so skipped there), exact on
        # some small cases the flow's prices miss by rounding; all there is without the flow.
        if len(compiled.free) <= FAST_SELECTION_EDGES:
            bound_value = min(bound_value, price_bound(idle_expert_prices(compiled, weight, warm)))
        stats["price_bound_s"] = round(deadline.elapsed(), 3)
    # Local search on the real rule: experts with slots left take slots from weaker
    # pairs, chained over rounds (the flow caps them at min(slots, universities)).
    if len(compiled.free) and not gap_closed() and not deadline.expired():
        improved = improve_by_replacement(compiled, best, weight, time_limit=_share(deadline, REPLACEMENT_TIME_SHARE))
        if _value(compiled, improved, weight) > best_value:
            best, best_value = improved, _value(compiled, improved, weight)
        stats["replacement_s"] = round(deadline.elapsed(), 3)
    # Experts with no university left to open move to one where they can take several courses.
    if len(compiled.free) and not gap_closed() and not deadline.expired():
        remaining = deadline.remaining()
        if remaining is not None and not flow_fits:  # keep time for the idle-price bound below
            remaining = max(remaining - IDLE_BOUND_SECONDS_PER_EDGE * len(compiled.free), 0.0)
        improved = improve_by_relocation(compiled, best, weight, time_limit=remaining)
        if _value(compiled, improved, weight) > best_value:
            best, best_value = improved, _value(compiled, improved, weight)
        stats["relocation_s"] = round(deadline.elapsed(), 3)
    # Experts keep the universities they hold and may add courses there, as one flow. Its
    # first LP always completes (~2 s at 5M pairs): start it only with the time for it.
    remaining = deadline.remaining()
    held_has_time = remaining is None or remaining >= max(
        HELD_FLOW_MIN_SECONDS_PER_EDGE * len(compiled.free), _flow_seconds(compiled) / 2
    )
    if len(compiled.free) and not gap_closed() and held_has_time:
        improved = held_university_flow(compiled, best, time_limit=_share(deadline, HELD_FLOW_TIME_SHARE))
        if _value(compiled, improved, weight) > best_value:
            best, best_value = improved, _value(compiled, improved, weight)
            if not deadline.expired():
                improved = improve_by_replacement(
                    compiled, best, weight, time_limit=_share(deadline, REPLACEMENT_TIME_SHARE)
                )
                if _value(compiled, improved, weight) > best_value:
                    best, best_value = improved, _value(compiled, improved, weight)
        stats["held_flow_s"] = round(deadline.elapsed(), 3)

    # Without the flow's prices: the idle experts' prices read off the improved answer.
    if len(compiled.free) and not flow_fits:
        bound_value = min(bound_value, price_bound(idle_expert_prices(compiled, weight, best)))
        stats["idle_bound_s"] = round(deadline.elapsed(), 3)

    remaining = deadline.remaining()
    # Setting up the LP (candidate selection, the master) takes ~1 s per 5M edges: start it only with time to use it.
    lp_has_time = remaining is None or remaining >= LP_MIN_SECONDS_PER_EDGE * len(compiled.free)
    # The LP's and the MIP's bounds cover only the pairs they see: not on a pruned instance.
    lp_has_time = lp_has_time and floor is None
    if len(compiled.free) and lp_has_time:
        master = MasterProblem(compiled, weight)
        in_master = np.zeros(len(compiled.free), dtype=bool)
        initial = _initial_candidates(compiled, warm, tie_breaker)
        master.add_edges(initial)
        in_master[initial] = True
        lp_x = None
        duals = None
        reduced = None
        last_dual_bound = np.inf
        rounds = 0
        while rounds < MAX_PRICING_ROUNDS:
            remaining = deadline.remaining()
            if remaining is not None and remaining <= 0:
                break
            rounds += 1
            solved = master.solve_lp(remaining)
            if solved is None:
                break
            duals, lp_x = solved
            reduced = _reduced_costs(compiled, duals, weight)
            last_dual_bound = _dual_bound(compiled, master, duals, reduced)
            bound_value = min(bound_value, last_dual_bound)
            bound_value = min(bound_value, price_bound(duals.demand))
            rounded = _round_and_complete(compiled, master.positions, lp_x, tie_breaker)
            if _value(compiled, rounded, weight) > best_value:
                best, best_value = rounded, _value(compiled, rounded, weight)
            if gap_closed():
                break
            if bound_value - duals.lp_value <= gap_tolerance * max(duals.lp_value - weight * len(best), 1.0):
                break  # the columns at hand already reach the full LP: more cannot help, branching can
            entering = _top_positive_per_demand(compiled, reduced, in_master, tie_breaker)
            if len(entering) == 0:
                break
            master.add_edges(entering)
            in_master[entering] = True
        stats["pricing_rounds"] = rounds
        stats["lp_s"] = round(deadline.elapsed(), 3)
        stats["candidate_edges"] = int(in_master.sum())

        # lp_x belongs to the master as it was at the last successful LP; columns may have come since.
        if lp_x is not None and len(lp_x) == len(master.positions) and _is_integral(lp_x):
            stats["lp_integral"] = True
        elif reduced is not None and not gap_closed() and not deadline.expired():
            stats["lp_integral"] = False
            chosen, restricted_bound = master.solve_mip(deadline.remaining(), start=best)
            stats["mip_s"] = round(deadline.elapsed(), 3)
            if chosen is not None and _value(compiled, chosen, weight) > best_value:
                best, best_value = chosen, _value(compiled, chosen, weight)
            # The LP bound D carries an integrality gap the MIP may have closed on its columns.
            # With the last duals, any solution is worth at most D - sum of its edges' dual
            # slacks; one using an edge outside the master thus at most D - (smallest slack
            # outside). Solutions inside the master are bounded by the MIP's own bound.
            outside = ~in_master
            smallest_slack = float(np.min(np.maximum(-reduced[outside], 0.0))) if outside.any() else np.inf
            bound_value = min(bound_value, max(restricted_bound, last_dual_bound - smallest_slack))

    free_edges = compiled.free[best]
    all_edges = np.concatenate([compiled.fixed_edges, free_edges])
    assignments = tuple(
        sorted((compiled.expert_ids[compiled.edge_expert[i]], compiled.demand_ids[compiled.edge_demand[i]]) for i in all_edges)
    )
    violations = _violations(compiled, all_edges)
    if violations:  # never hand out an answer that breaks a rule
        raise AssertionError("matching solver produced an infeasible answer: " + "; ".join(violations))

    fixed_score = float(compiled.edge_score[compiled.fixed_edges].sum())
    filled_free = len(best)
    score = fixed_score + float(compiled.edge_score[free_edges].sum())
    # The bound is a sum of terms of size ~weight: below its floating-point resolution it
    # cannot tell itself from our value (scores of 1e-12 next to a weight of 2, say).
    # (bound - weight * filled then carries that rounding, so the score bound is our score.)
    bound_meets_value = bound_value - best_value <= 16 * np.finfo(np.float64).eps * max(abs(bound_value), 1.0)
    if bound_meets_value:
        bound_value = min(bound_value, best_value)
    # Slots: an integer solution filling F' slots is worth at least weight * F'.
    filled_bound_free = int(np.floor(bound_value / weight + 1e-9))
    filled_bound_free = max(min(filled_bound_free, int(compiled.residual_need.clip(min=0).sum())), filled_free)
    # Any solution filling F' slots scores at most min(F', bound - weight * F'); the bound
    # reported covers every solution at least as good as ours (F' >= filled).
    counts = np.arange(filled_free, filled_bound_free + 1, dtype=np.float64)
    free_score_bound = float(np.max(np.minimum(counts, bound_value - weight * counts)))
    free_score_bound = max(free_score_bound, score - fixed_score)
    if bound_meets_value and filled_bound_free == filled_free:
        free_score_bound = score - fixed_score
    score_bound = fixed_score + free_score_bound
    score_gap = (score_bound - score) / score_bound if score_bound > 1e-12 else 0.0
    slot_gap = (filled_bound_free - filled_free) / max(filled_bound_free + len(compiled.fixed_edges), 1)
    gap = max(score_gap, slot_gap, 0.0)
    status = "optimal" if filled_bound_free == filled_free and gap <= OPTIMALITY_TOLERANCE else "feasible"

    unfilled: tuple[UnfilledSlot, ...] = ()
    stability = None
    if diagnostics:
        started = deadline.elapsed()
        unfilled = tuple(explain_unfilled(compiled, all_edges))
        stability = stability_report(compiled, all_edges)
        stats["diagnostics_s"] = round(deadline.elapsed() - started, 3)
    elapsed = deadline.elapsed()  # everything the caller waited for, diagnostics included
    return Solution(
        assignments=assignments,
        filled=len(all_edges),
        score=score,
        bound=score_bound,
        filled_bound=filled_bound_free + len(compiled.fixed_edges),
        total_need=int(compiled.need.sum()),
        gap=gap,
        time_s=elapsed,
        status=status,
        unfilled=unfilled,
        stability=stability,
        stats=stats,
    )
