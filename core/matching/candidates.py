"""Every candidate pair of a batch as columns: the hard filters and the score of `scoring`, over all experts at once.

`scoring.pair_filter` and `scoring.score_pair` decide, for one pair, whether it may exist
and what it scores, with the words staff read. A national batch has millions of pairs
(L: 5M, XL: 57M), and one Python object per pair, each with its explained terms, would
take tens of gigabytes. Here the same rules run per demand over arrays of every expert,
with the same floating-point operations in the same order and the same rounding, so each
score is the one `score_pair` gives, to the bit (tests compare the two on random batches).

Above `prune.PRUNE_ABOVE_EDGES` candidates, each demand keeps only its best pairs (the
cut of `core.matching.prune`, fixed pairs always kept) as it is scored, so the full table
never exists; the instance records per demand a score above every pair left out
(`Instance.dropped_below`), and the solver's bound covers them through it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from core.domain.courses import TeachingMode
from core.domain.vocabulary import PRIORITY_GROUPS, priority_groups_met
from core.matching import prune
from core.matching.instance import EdgeTable
from core.matching.scoring import COURSE_FIT_BY_POSITION, SCORE_WEIGHTS

__all__ = ["CandidateTable", "candidate_count", "candidate_table"]


@dataclass(frozen=True)
class CandidateTable:
    """The candidate pairs kept as edges, and what was left out."""

    edges: EdgeTable
    # Candidate pairs in all, kept or not.
    candidates: int
    # Per demand id with pairs left out: a score above every one of them.
    dropped_below: dict[str, float]


class _Experts:
    """The experts' answers as arrays, one row per expert."""

    def __init__(self, experts: Sequence, course_index: dict[str, int], times: dict[str, int], provinces: dict[str, int]):
        n = len(experts)
        self.ids = tuple(e.id for e in experts)
        self.online = np.fromiter((e.modes in (TeachingMode.ONLINE, TeachingMode.BOTH) for e in experts), bool, n)
        self.province = np.fromiter((provinces[e.province] for e in experts), np.int64, n)
        self._offline_sets = [e.teaches_offline_in for e in experts]
        self._teaches_in: dict[str, np.ndarray] = {}
        # Course fit per course, or NaN where the expert did not declare it (first position counts).
        self.fit = np.full((len(course_index), n), np.nan)
        for row, expert in enumerate(experts):
            for position in range(len(expert.courses) - 1, -1, -1):
                course = course_index[expert.courses[position]]
                self.fit[course, row] = COURSE_FIT_BY_POSITION[min(position, len(COURSE_FIT_BY_POSITION) - 1)]
        words = max(1, -(-len(times) // 64))
        self.times = np.zeros((n, words), dtype=np.uint64)
        for row, expert in enumerate(experts):
            self.times[row] = _time_bits(expert.times, times, words)
        self.has_times = np.fromiter((bool(e.times) for e in experts), bool, n)
        self.priority = np.fromiter(
            (len(priority_groups_met(e.priority_conditions)) / len(PRIORITY_GROUPS) for e in experts), np.float64, n
        )
        self.member = np.fromiter((1.0 if e.is_member else 0.0 for e in experts), np.float64, n)
        self.ranked = np.fromiter((bool(e.ranking) for e in experts), bool, n)
        # For each demand or university id an expert ranked: (expert rows, 1 - position / length), first place kept.
        entries: dict[str, tuple[list[int], list[float]]] = {}
        for row, expert in enumerate(experts):
            seen: set[str] = set()
            for position, key in enumerate(expert.ranking):
                if key in seen:
                    continue
                seen.add(key)
                rows, values = entries.setdefault(key, ([], []))
                rows.append(row)
                values.append(1.0 - position / len(expert.ranking))
        self.ranking_entries = {k: (np.array(r, dtype=np.int64), np.array(v)) for k, (r, v) in entries.items()}

    def teaches_offline_in(self, province: str) -> np.ndarray:
        if province not in self._teaches_in:
            self._teaches_in[province] = np.fromiter(
                (province in offline for offline in self._offline_sets), bool, len(self._offline_sets)
            )
        return self._teaches_in[province]


def _time_bits(times: Iterable[str], index: dict[str, int], words: int) -> np.ndarray:
    bits = np.zeros(words, dtype=np.uint64)
    for slot in times:
        bit = index[slot]
        bits[bit // 64] |= np.uint64(1 << (bit % 64))
    return bits


def _candidates_of(experts: _Experts, demand, course: int, demand_bits: np.ndarray) -> np.ndarray:
    """Rows of the experts that pass `scoring.pair_filter` for this demand (no forbidden pairs: those stay edges)."""
    ok = ~np.isnan(experts.fit[course])
    if demand.mode == TeachingMode.ONLINE:
        ok &= experts.online
    elif demand.mode == TeachingMode.OFFLINE:
        ok &= experts.teaches_offline_in(demand.province)
    elif demand.mode == TeachingMode.BOTH:
        ok &= experts.online | experts.teaches_offline_in(demand.province)
    if demand.times:
        overlap = (experts.times & demand_bits).any(axis=1)
        ok &= ~experts.has_times | overlap
    return np.flatnonzero(ok)


class _Rounding:
    """Python's `round(x, 6)` (correctly rounded, unlike numpy's), once per distinct value."""

    def __init__(self) -> None:
        self._seen: dict[float, float] = {}

    def __call__(self, values: np.ndarray) -> np.ndarray:
        distinct, inverse = np.unique(values, return_inverse=True)
        seen = self._seen
        rounded = [seen.get(v) for v in distinct.tolist()]
        for i, (v, r) in enumerate(zip(distinct.tolist(), rounded)):
            if r is None:
                rounded[i] = seen[v] = round(v, 6)
        return np.asarray(rounded, dtype=np.float64)[inverse]


def _scores(experts: _Experts, demand, course: int, province: int, rows: np.ndarray, demand_bits: np.ndarray,
            expert_index: dict[str, int], rounding: _Rounding) -> np.ndarray:
    """`scoring.score_pair(...).score` for each of these experts: its terms in its order, the same operations."""
    w = SCORE_WEIGHTS
    k = len(rows)
    offline = np.zeros(k, bool)
    if demand.mode == TeachingMode.OFFLINE:
        offline[:] = True
    elif demand.mode == TeachingMode.BOTH:
        offline = experts.teaches_offline_in(demand.province)[rows]
    # (value, weight present) per term, in score_pair's order; an absent term adds 0.0, which changes no sum.
    terms: list[tuple[np.ndarray | float, str, np.ndarray | bool]] = [
        (experts.fit[course, rows], "course_fit", True),
        (experts.priority[rows], "priority", True),
        (experts.member[rows], "membership", True),
        ((experts.province[rows] == province).astype(np.float64), "same_province", offline),
    ]
    if demand.times:
        covered = np.full(k, float(len(demand.times)))
        timed = experts.has_times[rows]
        common = np.bitwise_count(experts.times[rows] & demand_bits).sum(axis=1)
        covered[timed] = common[timed]
        terms.append((covered / len(demand.times), "schedule_fit", True))
    if demand.ranking:
        value = np.zeros(k)
        place = {}
        for position, expert_id in enumerate(demand.ranking):
            if expert_id in expert_index:
                place.setdefault(expert_index[expert_id], 1.0 - position / len(demand.ranking))
        if place:
            position_of_row = np.full(len(experts.ids), -1, dtype=np.int64)
            position_of_row[rows] = np.arange(k)
            for row, v in place.items():
                if position_of_row[row] >= 0:
                    value[position_of_row[row]] = v
        terms.append((value, "university_preference", True))
    ranked = experts.ranked[rows]
    if ranked.any():
        value = np.zeros(len(experts.ids))
        # The demand's own id wins over its university's, as in `_rank_value`.
        for key in (demand.university_id, demand.id):
            entry = experts.ranking_entries.get(key)
            if entry is not None:
                value[entry[0]] = entry[1]
        terms.append((value[rows], "expert_preference", ranked))

    # score_pair: total = sum of the present terms' weights; score = sum of value * (weight / total).
    total = 0
    for _, name, present in terms:
        total = total + (w[name] if present is True else np.where(present, w[name], 0.0))
    score = 0
    for value, name, present in terms:
        weight = w[name] / total
        score = score + value * (weight if present is True else np.where(present, weight, 0.0))
    score = np.clip(np.broadcast_to(score, (k,)), 0.0, 1.0)
    return rounding(score)


def _numbered(values: Iterable) -> dict:
    numbers: dict = {}
    for value in values:
        numbers.setdefault(value, len(numbers))
    return numbers


@dataclass(frozen=True)
class _Batch:
    experts: _Experts
    course_index: dict
    provinces: dict
    demand_bits: list
    expert_index: dict


def _prepare(experts: Sequence, demands: Sequence) -> _Batch:
    course_index = _numbered([c for e in experts for c in e.courses] + [d.course for d in demands])
    times = _numbered([t for e in experts for t in e.times] + [t for d in demands for t in d.times])
    provinces = _numbered([e.province for e in experts] + [d.province for d in demands])
    table = _Experts(experts, course_index, times, provinces)
    words = table.times.shape[1]
    return _Batch(table, course_index, provinces, [_time_bits(d.times, times, words) for d in demands],
                  {e: i for i, e in enumerate(table.ids)})


def _count(batch: _Batch, demands: Sequence) -> int:
    return sum(len(_candidates_of(batch.experts, d, batch.course_index[d.course], batch.demand_bits[j]))
               for j, d in enumerate(demands))


def candidate_count(experts: Sequence, demands: Sequence) -> int:
    """How many pairs `scoring.pair_filter` allows, without scoring them."""
    return _count(_prepare(experts, demands), demands)


def candidate_table(
    experts: Sequence,
    demands: Sequence,
    *,
    keep: Iterable[tuple[str, str]] = (),
    prune_above: int | None = None,
) -> CandidateTable:
    """The pairs `scoring.pair_filter` allows, scored by `scoring.score_pair`, as columns.

    `keep`: pairs that stay edges whatever their rank (fixed pairs that are candidates).
    `prune_above`: above this many candidates each demand keeps only its best pairs
    (default `prune.PRUNE_ABOVE_EDGES`; 0 or less: never).
    """
    if prune_above is None:
        prune_above = prune.PRUNE_ABOVE_EDGES
    batch = _prepare(experts, demands)
    table, course_index, provinces = batch.experts, batch.course_index, batch.provinces
    demand_bits, expert_index = batch.demand_bits, batch.expert_index
    # First pass, rows only: how many candidates in all decides whether to keep each demand's best only.
    candidates = _count(batch, demands)
    pruning = 0 < prune_above < candidates
    take = prune.keep_per_demand(np.fromiter((d.need for d in demands), np.int64, len(demands))) if pruning else None
    kept_by_demand: dict[str, list[int]] = {}
    for expert_id, demand_id in keep:
        if expert_id in expert_index:
            kept_by_demand.setdefault(demand_id, []).append(expert_index[expert_id])

    rounding = _Rounding()
    expert_parts: list[np.ndarray] = []
    score_parts: list[np.ndarray] = []
    counts = np.zeros(len(demands), dtype=np.int64)
    dropped_below: dict[str, float] = {}
    for j, demand in enumerate(demands):
        course = course_index[demand.course]
        rows = _candidates_of(table, demand, course, demand_bits[j])
        scores = _scores(table, demand, course, provinces[demand.province], rows, demand_bits[j], expert_index, rounding)
        if pruning and len(rows) > take[j]:
            buckets = prune.score_buckets(scores)
            cut = int(prune.cuts(np.bincount(buckets, minlength=prune.BUCKETS + 1)[None, :], take[j : j + 1])[0])
            chosen = buckets >= cut
            if demand.id in kept_by_demand:
                chosen |= np.isin(rows, kept_by_demand[demand.id])
            if not chosen.all():
                dropped_below[demand.id] = float(prune.floors(np.array([cut]))[0])
                rows, scores = rows[chosen], scores[chosen]
        expert_parts.append(rows.astype(np.int32))
        score_parts.append(scores)
        counts[j] = len(rows)
    edges = EdgeTable(
        table.ids,
        [d.id for d in demands],
        np.concatenate(expert_parts) if expert_parts else np.zeros(0, np.int32),
        np.repeat(np.arange(len(demands), dtype=np.int32), counts),
        np.concatenate(score_parts) if score_parts else np.zeros(0),
    )
    return CandidateTable(edges=edges, candidates=candidates, dropped_below=dropped_below)
