"""Each demand's best pairs only, for the national tiers (L: 5M pairs, XL: 55M).

The solver's stages copy the pair columns several times (int64 experts, demands,
scores, sort keys); at tens of millions of pairs that is gigabytes, and every pass
over them costs time. At L the flow over each demand's best 200 pairs per slot
reaches the same optimum and prices as over all 5M, in a quarter of the pairs. Above
`PRUNE_ABOVE_EDGES` the solver works on each demand's `KEEP_PER_SLOT * need +
KEEP_EXTRA` best pairs (all ties at the cut kept, fixed pairs always kept), chosen in
two chunked passes over the caller's columns (a score histogram per demand, then the
cut), so the full table is never copied.

The answer stays honest: `floor` is, per demand, a score no dropped pair reaches. At
demand prices of at least weight + floor every dropped pair has a non-positive value
in the per-expert (Lagrangian) bound, so that bound computed on the kept pairs holds
for the whole instance. The LP stage's bounds do not have that property and are not
used on a pruned instance.
"""
from __future__ import annotations

import numpy as np

from core.matching.instance import EdgeTable, Instance

__all__ = ["KEEP_EXTRA", "KEEP_PER_SLOT", "PRUNE_ABOVE_EDGES", "cuts", "floors", "keep_per_demand", "prune_instance",
           "score_buckets"]

# The national tiers: L (5M pairs) and XL (57M); M (~0.1M) and below are solved whole.
PRUNE_ABOVE_EDGES = 2_000_000
# At L the flow over each demand's best 200 pairs per slot reaches the full flow's
# optimum and prices (100 per slot: 0.2 % looser bound).
KEEP_PER_SLOT = 200
KEEP_EXTRA = 200
# Fewer per slot when slots and demands are many: about this many pairs kept in all
# (memory and time grow with them), never fewer than KEEP_AT_LEAST per slot.
KEPT_EDGES_BUDGET = 2_000_000
KEEP_AT_LEAST = 50
# Score resolution of the cut (scores lie in [0, 1]).
BUCKETS = 1000
CHUNK = 4_000_000


def keep_per_demand(needs: np.ndarray) -> np.ndarray:
    """How many pairs each demand keeps (before ties at the cut): per slot and per demand
    alike, within the budget (XL: ~125 per slot instead of 200)."""
    needs = np.asarray(needs, dtype=np.int64)
    slots_and_demands = int(needs.clip(min=0).sum()) + len(needs)
    per_slot = int(np.clip(KEPT_EDGES_BUDGET // max(slots_and_demands, 1), min(KEEP_PER_SLOT, KEEP_AT_LEAST), KEEP_PER_SLOT))
    return per_slot * needs.clip(min=0) + min(KEEP_EXTRA, per_slot)


def score_buckets(scores: np.ndarray) -> np.ndarray:
    return np.clip((scores * BUCKETS).astype(np.int64), 0, BUCKETS)


def cuts(counts: np.ndarray, take: np.ndarray) -> np.ndarray:
    """Per demand (a row of bucket counts), the highest bucket that still leaves `take`
    pairs at or above it (0: keep all)."""
    # from_top[d, b]: pairs of d in bucket b or above.
    from_top = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]
    enough = from_top >= np.asarray(take)[:, None]
    return np.where(enough.any(axis=1), BUCKETS - np.argmax(enough[:, ::-1], axis=1), 0)


def floors(cut: np.ndarray) -> np.ndarray:
    """A score above every pair below the cut (-inf where nothing was cut)."""
    return np.where(cut > 0, cut / BUCKETS + 1e-9, -np.inf)


def given_floor(instance: Instance) -> np.ndarray | None:
    """`instance.dropped_below` per demand in `instance.demands` order, or None when no pair was left out."""
    if not instance.dropped_below:
        return None
    below = instance.dropped_below
    return np.fromiter((below.get(d.id, -np.inf) for d in instance.demands), np.float64, len(instance.demands))


def prune_instance(instance: Instance, *, above: int | None = None) -> tuple[Instance, np.ndarray | None]:
    """The instance itself and its given floor (None: no pair left out) when small; else the
    pruned instance and, per demand (in `instance.demands` order), a score above every pair
    left out (-inf: none), here or where the instance was built (`Instance.dropped_below`)."""
    table = instance.edges
    if above is None:
        above = PRUNE_ABOVE_EDGES
    given = given_floor(instance)
    if not isinstance(table, EdgeTable) or len(table) <= above:
        return instance, given
    take_of = dict(zip(
        (d.id for d in instance.demands),
        keep_per_demand(np.fromiter((d.need for d in instance.demands), np.int64, len(instance.demands))).tolist(),
    ))
    n_td = len(table.demand_ids)
    take = np.fromiter((take_of[d] for d in table.demand_ids), np.int64, n_td)
    n = len(table)

    def demand_chunk(begin: int, end: int) -> np.ndarray:
        return table.demand[begin:end].astype(np.int64)

    counts = np.zeros(n_td * (BUCKETS + 1), dtype=np.int64)
    for begin in range(0, n, CHUNK):
        end = min(begin + CHUNK, n)
        counts += np.bincount(
            demand_chunk(begin, end) * (BUCKETS + 1) + score_buckets(table.score[begin:end]), minlength=len(counts)
        )
    cut = cuts(counts.reshape(n_td, BUCKETS + 1), take)

    kept: list[np.ndarray] = []
    for begin in range(0, n, CHUNK):
        end = min(begin + CHUNK, n)
        kept.append(begin + np.flatnonzero(score_buckets(table.score[begin:end]) >= cut[demand_chunk(begin, end)]))
    keep = np.concatenate(kept)
    if instance.fixed:
        expert_index = {e: i for i, e in enumerate(table.expert_ids)}
        demand_index = {d: i for i, d in enumerate(table.demand_ids)}
        fixed_keys = np.fromiter(
            (expert_index[e] * n_td + demand_index[d] for e, d in instance.fixed if e in expert_index and d in demand_index),
            np.int64,
        )
        extra = [
            begin + np.flatnonzero(np.isin(
                table.expert[begin : begin + CHUNK].astype(np.int64) * n_td + demand_chunk(begin, begin + CHUNK), fixed_keys))
            for begin in range(0, n, CHUNK)
        ]
        keep = np.union1d(keep, np.concatenate(extra))
    pruned = _subset_instance(
        instance,
        EdgeTable(table.expert_ids, table.demand_ids, table.expert[keep], table.demand[keep], table.score[keep]),
    )
    floor_by_id = dict(zip(table.demand_ids, floors(cut).tolist()))
    floor = np.fromiter((floor_by_id.get(d.id, -np.inf) for d in instance.demands), np.float64, len(instance.demands))
    if given is not None:
        floor = np.maximum(floor, given)
    return pruned, floor


def _subset_instance(instance: Instance, edges: EdgeTable) -> Instance:
    """`instance` with a subset of its pairs (fixed ones among them), not validated again.

    Every check of `instance.validate` holds for a subset of a valid instance's pairs
    that keeps its fixed pairs; re-running it costs ~1.5 s per million pairs (a hash
    of every pair for duplicates).
    """
    subset = object.__new__(Instance)
    for name, value in (
        ("experts", instance.experts),
        ("demands", instance.demands),
        ("edges", edges),
        ("fixed", instance.fixed),
        ("forbidden", instance.forbidden),
        ("dropped_below", instance.dropped_below),
    ):
        object.__setattr__(subset, name, value)
    return subset
