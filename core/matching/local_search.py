"""Primal heuristics on the real rule (at most N distinct universities per expert).

- `greedy_assignment`: every pair by score, best first, taken while need, slots and
  universities allow. A few seconds at national scale, no LP; maximal, not maximum.
- `improve_by_replacement`: rounds of "an expert with room takes a demand's slot,
  pushing out the demand's weakest pair (or filling an empty slot)". Each round
  applies, per demand and per expert, at most one such move with a positive gain,
  so loads stay consistent; the experts pushed out have room in the next round, so
  rounds chain into improving alternating paths. Never fills fewer slots, never lowers
  the score, and respects every constraint at every step.
- `improve_by_relocation`: an expert with no university left to open gives up its
  least valuable university and takes several courses at another one; the holes are
  refilled by replacement moves; a round is kept only if the whole answer got better.
  At L this is what moves the answer most: 2978.1 -> 2982.8 (the flow: 2974.8).
All work on free-edge positions (into `compiled.free`), like the flow and the master.
"""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

import numpy as np

from core.matching.model import CompiledInstance

__all__ = ["greedy_assignment", "improve_by_relocation", "improve_by_replacement"]

# Pairs handed to the Python loop of the greedy at once, after a vectorised filter.
GREEDY_CHUNK = 65_536
# A move must gain more than this (scores have 1e-6 resolution).
MIN_GAIN = 1e-9


@dataclass(frozen=True)
class _FreeView:
    """Per free edge: expert, demand, score, university, (expert, university) key."""

    expert: np.ndarray
    demand: np.ndarray
    score: np.ndarray
    university: np.ndarray
    key: np.ndarray


_VIEWS: "weakref.WeakKeyDictionary[CompiledInstance, _FreeView]" = weakref.WeakKeyDictionary()


def _view(compiled: CompiledInstance) -> _FreeView:
    """The free edges' columns, built once per compiled instance (each gather of 5M pairs costs ~30 ms)."""
    view = _VIEWS.get(compiled)
    if view is None:
        free = compiled.free
        if len(free) == len(compiled.edge_expert):  # every edge is free: free is 0..n-1
            expert, demand, score = compiled.edge_expert, compiled.edge_demand, compiled.edge_score
        else:
            expert, demand, score = compiled.edge_expert[free], compiled.edge_demand[free], compiled.edge_score[free]
        university = compiled.demand_university[demand]
        view = _FreeView(expert, demand, score, university, expert * (len(compiled.university_ids) + 1) + university)
        _VIEWS[compiled] = view
    return view


def _firsts(sorted_keys: np.ndarray) -> np.ndarray:
    """True where a run of equal keys starts (empty in, empty out)."""
    first = np.ones(len(sorted_keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return first


def _order_by_score(score: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Indices in descending score, ties in a fixed pseudo-random order of the positions.

    Scores are multiples of 1e-6 in [0, 1]: one int64 composite key sorts score and tie
    together (a lexsort of millions of pairs is several times slower).
    """
    tie = (positions.astype(np.uint64) * np.uint64(2654435761) % np.uint64(1 << 32)).astype(np.int64)
    composite = (1_000_000 - np.rint(np.clip(score, 0.0, 1.0) * 1e6).astype(np.int64)) * (1 << 32) + tie
    return np.argsort(composite)


def greedy_assignment(compiled: CompiledInstance, among: np.ndarray | None = None) -> np.ndarray:
    """Free-edge positions of the best-score-first greedy assignment (feasible, maximal)."""
    positions = np.arange(len(compiled.free)) if among is None else np.asarray(among, dtype=np.int64)
    if len(positions) == 0:
        return np.zeros(0, dtype=np.int64)
    edges = compiled.free[positions]
    expert = compiled.edge_expert[edges]
    demand = compiled.edge_demand[edges]
    university = compiled.demand_university[demand]
    opens = compiled.free_opens_university[positions]
    order = _order_by_score(compiled.edge_score[edges], positions)
    need = np.maximum(compiled.residual_need, 0).copy()
    slots = np.maximum(compiled.residual_slots, 0).copy()
    room = np.maximum(compiled.residual_universities, 0).copy()
    held: dict[int, set[int]] = {}
    chosen: list[int] = []
    left = int(need.sum())
    for begin in range(0, len(order), GREEDY_CHUNK):
        if left <= 0:
            break
        block = order[begin : begin + GREEDY_CHUNK]
        # Need and slots only go down: what is unusable now stays so for this block.
        block = block[(need[demand[block]] > 0) & (slots[expert[block]] > 0)]
        for i in block.tolist():
            d, e = demand[i], expert[i]
            if need[d] <= 0 or slots[e] <= 0:
                continue
            if opens[i]:
                u = university[i]
                mine = held.get(e)
                if mine is None or u not in mine:
                    if room[e] <= 0:
                        continue
                    room[e] -= 1
                    held.setdefault(e, set()).add(u)
            need[d] -= 1
            slots[e] -= 1
            chosen.append(i)
            left -= 1
    return np.sort(positions[np.asarray(chosen, dtype=np.int64)])


def improve_by_replacement(
    compiled: CompiledInstance,
    chosen: np.ndarray,
    weight: float,
    *,
    time_limit: float | None = None,
    max_rounds: int = 10_000,
) -> np.ndarray:
    """A better (or the same) assignment from `chosen` by rounds of replacement moves.

    A move puts expert e on demand d (a pair not in use) when e has a slot left and
    either already serves d's university or may open one more; if d is full, its
    weakest pair leaves. Gain: weight + score for an empty slot, else score minus the
    weakest score. Each round takes, per demand, its best move and, per expert, the best
    of those; a round's moves touch distinct demands and experts, so they are all valid
    together.
    """
    started = time.perf_counter()
    chosen = np.asarray(chosen, dtype=np.int64)
    n_free = len(compiled.free)
    if n_free == 0:
        return chosen
    n_d, n_e = compiled.n_demands, compiled.n_experts
    n_u = len(compiled.university_ids) + 1
    view = _view(compiled)
    expert_all, demand_all, score_all, university_all = view.expert, view.demand, view.score, view.university
    opens_all = compiled.free_opens_university

    used = np.zeros(n_free, dtype=bool)
    used[chosen] = True
    need = np.maximum(compiled.residual_need, 0)
    slots_left = np.maximum(compiled.residual_slots, 0) - np.bincount(expert_all[chosen], minlength=n_e)
    # Free pairs per (expert, university) that open it: a university is held while this is > 0.
    opening = chosen[opens_all[chosen]]
    pair_count: dict[int, int] = {}
    for key in (expert_all[opening] * n_u + university_all[opening]).tolist():
        pair_count[key] = pair_count.get(key, 0) + 1
    room_left = np.maximum(compiled.residual_universities, 0) - np.bincount(
        np.fromiter(pair_count.keys(), dtype=np.int64, count=len(pair_count)) // n_u, minlength=n_e
    )
    filled = np.bincount(demand_all[chosen], minlength=n_d)

    def weakest() -> tuple[np.ndarray, np.ndarray]:
        """Per demand: the score to beat and the position that would leave (-1: an empty slot)."""
        in_use = np.flatnonzero(used)
        d = demand_all[in_use]
        s = score_all[in_use]
        order = np.lexsort((s, d))
        first = _firsts(d[order])
        low = np.full(n_d, np.inf)
        low_at = np.full(n_d, -1, dtype=np.int64)
        low[d[order][first]] = s[order][first]
        low_at[d[order][first]] = in_use[order][first]
        empty = filled < need
        threshold = np.where(empty, -weight, low)
        return threshold, np.where(empty, -1, low_at)

    threshold, leaving = weakest()
    # Pairs that could ever gain: thresholds only rise while a demand stays full.
    candidates = np.flatnonzero(~used & (score_all > threshold[demand_all] + MIN_GAIN) & (need[demand_all] > 0))
    rounds = 0
    while rounds < max_rounds:
        if time_limit is not None and time.perf_counter() - started > time_limit:
            break
        rounds += 1
        c = candidates[~used[candidates]]
        e, d = expert_all[c], demand_all[c]
        gain = score_all[c] - threshold[d]
        ok = (gain > MIN_GAIN) & (slots_left[e] > 0)
        if not ok.any():
            break
        c, e, d, gain = c[ok], e[ok], d[ok], gain[ok]
        needs_room = opens_all[c]
        if needs_room.any():
            keys = e[needs_room] * n_u + university_all[c[needs_room]]
            held_keys = np.fromiter((k for k, v in pair_count.items() if v > 0), dtype=np.int64)
            inside = np.isin(keys, held_keys)
            allowed = np.ones(len(c), dtype=bool)
            allowed[np.flatnonzero(needs_room)[~inside]] = room_left[e[needs_room][~inside]] > 0
            c, e, d, gain = c[allowed], e[allowed], d[allowed], gain[allowed]
            if len(c) == 0:
                break
        # Best per demand, then best per expert among those (ties by position).
        order = np.lexsort((c, -gain, d))
        first = _firsts(d[order])
        pick = order[first]
        order = np.lexsort((c[pick], -gain[pick], e[pick]))
        first = _firsts(e[pick][order])
        pick = pick[order[first]]
        # An expert pushed out this round may be one taking a move: it keeps its new pair,
        # its freed slot shows next round. Distinct demands and experts per move, so valid.
        for i, dd in zip(c[pick].tolist(), d[pick].tolist()):
            out = int(leaving[dd])
            ee = int(expert_all[i])
            if out >= 0:
                used[out] = False
                oe = int(expert_all[out])
                slots_left[oe] += 1
                if opens_all[out]:
                    key = oe * n_u + int(university_all[out])
                    pair_count[key] -= 1
                    if pair_count[key] == 0:
                        del pair_count[key]
                        room_left[oe] += 1
            else:
                filled[dd] += 1
            used[i] = True
            slots_left[ee] -= 1
            if opens_all[i]:
                key = ee * n_u + int(university_all[i])
                if key not in pair_count:
                    pair_count[key] = 0
                    room_left[ee] -= 1
                pair_count[key] += 1
        threshold, leaving = weakest()
    return np.flatnonzero(used)


def _state(compiled: CompiledInstance, chosen: np.ndarray):
    """Loads of an assignment: slots left, universities left to open, held (expert, university) keys."""
    free = compiled.free
    n_e = compiled.n_experts
    n_u = len(compiled.university_ids) + 1
    expert = compiled.edge_expert[free[chosen]]
    university = compiled.demand_university[compiled.edge_demand[free[chosen]]]
    opens = compiled.free_opens_university[chosen]
    slots_left = np.maximum(compiled.residual_slots, 0) - np.bincount(expert, minlength=n_e)
    keys = np.unique(expert[opens] * n_u + university[opens])
    room_left = np.maximum(compiled.residual_universities, 0) - np.bincount(keys // n_u, minlength=n_e)
    return slots_left, room_left, keys


def improve_by_relocation(
    compiled: CompiledInstance,
    chosen: np.ndarray,
    weight: float,
    *,
    time_limit: float | None = None,
    max_rounds: int = 50,
) -> np.ndarray:
    """A better (or the same) assignment by moving experts from one university to another.

    An expert with no university left to open cannot use its spare slots elsewhere by
    replacement moves alone. A relocation drops all its pairs at one university it holds
    (their slots are refilled by the best expert with room, as `improve_by_replacement`
    then does) and takes, at one university it does not hold, the demands where it beats
    the weakest pair (or fills an empty slot), as many as its slots then allow. Moves are
    estimated, applied together when they touch distinct experts and demands, the result
    polished by replacement moves and kept only if it is better: never worse.
    """
    started = time.perf_counter()
    best = np.asarray(chosen, dtype=np.int64)
    n_free = len(compiled.free)
    if n_free == 0 or len(best) == 0:
        return best
    n_d, n_e = compiled.n_demands, compiled.n_experts
    n_u = len(compiled.university_ids) + 1
    view = _view(compiled)
    expert_all, demand_all, score_all, key_all = view.expert, view.demand, view.score, view.key
    opens_all = compiled.free_opens_university
    need = np.maximum(compiled.residual_need, 0)

    def value(x: np.ndarray) -> float:
        return weight * len(x) + float(score_all[x].sum())

    def left() -> float | None:
        return None if time_limit is None else time_limit - (time.perf_counter() - started)

    best_value = value(best)
    last_round = 0.0
    for _ in range(max_rounds):
        remaining = left()
        # No round starts that would likely end past the limit (rounds take about the same time).
        if remaining is not None and remaining <= last_round:
            break
        round_started = time.perf_counter()
        used = np.zeros(n_free, dtype=bool)
        used[best] = True
        slots_left, room_left, held_keys = _state(compiled, best)
        filled = np.bincount(demand_all[best], minlength=n_d)
        # Score to beat per demand (an empty slot: anything, worth weight more).
        order = np.lexsort((score_all[best], demand_all[best]))
        d_sorted = demand_all[best][order]
        first = _firsts(d_sorted)
        low = np.full(n_d, np.inf)
        low_at = np.full(n_d, -1, dtype=np.int64)
        low[d_sorted[first]] = score_all[best][order][first]
        low_at[d_sorted[first]] = best[order][first]
        empty = filled < need
        threshold = np.where(empty, -weight, low)
        leaving = np.where(empty, -1, low_at)

        # Experts that would relocate: no university left to open, at least one droppable.
        held_expert = held_keys // n_u
        stuck = (room_left <= 0) & (np.bincount(held_expert, minlength=n_e) > 0)
        # Their gains at universities they do not hold.
        cand = np.flatnonzero(stuck[expert_all] & ~used & opens_all & (score_all > threshold[demand_all] + MIN_GAIN))
        if len(cand) == 0:
            break
        cand = cand[~np.isin(key_all[cand], held_keys)]
        if len(cand) == 0:
            break
        # Loss per held university: its pairs' scores minus what refills them (the best
        # unused pair of its demand whose expert has a slot and the university allowed).
        in_use = best[opens_all[best]]
        in_use = in_use[stuck[expert_all[in_use]]]
        lost_demands = np.unique(demand_all[in_use])
        is_lost = np.zeros(n_d, dtype=bool)
        is_lost[lost_demands] = True
        refill_pool = np.flatnonzero(is_lost[demand_all] & ~used & (slots_left[expert_all] > 0))
        may = np.isin(key_all[refill_pool], held_keys) | ~opens_all[refill_pool] | (room_left[expert_all[refill_pool]] > 0)
        refill_pool = refill_pool[may]
        refill = np.full(n_d, -weight)  # nobody refills: the slot stays empty
        if len(refill_pool):
            pool_demand = demand_all[refill_pool]
            o = np.argsort(pool_demand, kind="stable")
            starts = np.flatnonzero(_firsts(pool_demand[o]))
            refill[pool_demand[o][starts]] = np.maximum.reduceat(score_all[refill_pool][o], starts)
        loss_key, loss_index = np.unique(key_all[in_use], return_inverse=True)
        loss = np.bincount(loss_index, weights=score_all[in_use] - refill[demand_all[in_use]], minlength=len(loss_key))
        count = np.bincount(loss_index, minlength=len(loss_key))
        # The cheapest university to give up, per expert.
        o = np.lexsort((loss, loss_key // n_u))
        k_sorted = loss_key[o] // n_u
        firsts = o[_firsts(k_sorted)]
        drop_loss = np.full(n_e, np.inf)
        drop_key = np.full(n_e, -1, dtype=np.int64)
        drop_count = np.zeros(n_e, dtype=np.int64)
        drop_loss[loss_key[firsts] // n_u] = loss[firsts]
        drop_key[loss_key[firsts] // n_u] = loss_key[firsts]
        drop_count[loss_key[firsts] // n_u] = count[firsts]
        cand = cand[np.isfinite(drop_loss[expert_all[cand]])]
        if len(cand) == 0:
            break
        gain = score_all[cand] - threshold[demand_all[cand]]
        cap = slots_left[expert_all[cand]] + drop_count[expert_all[cand]]
        o = np.lexsort((cand, -gain, key_all[cand]))
        k_sorted = key_all[cand][o]
        starts = np.searchsorted(k_sorted, k_sorted, side="left")
        rank = np.arange(len(o)) - starts
        take = o[rank < cap[o]]
        group_key, group_index = np.unique(key_all[cand][take], return_inverse=True)
        group_gain = np.bincount(group_index, weights=gain[take], minlength=len(group_key))
        net = group_gain - drop_loss[group_key // n_u]
        good = np.flatnonzero(net > MIN_GAIN)
        if len(good) == 0:
            break
        # Best move per expert, then apply the best moves that touch distinct experts and demands.
        good = good[np.argsort(-net[good], kind="stable")]
        _, firsts = np.unique(group_key[good] // n_u, return_index=True)
        moves = good[np.sort(firsts)]
        moves = moves[np.argsort(-net[moves], kind="stable")]
        take_sorted = np.argsort(group_index, kind="stable")
        take_by_group = take[take_sorted]
        group_starts = np.searchsorted(group_index[take_sorted], np.arange(len(group_key) + 1))
        touched = np.zeros(n_d, dtype=bool)
        busy = np.zeros(n_e, dtype=bool)
        dropped_pairs: list[np.ndarray] = []
        added: list[int] = []
        removed: list[int] = []
        in_use_by_key = {}
        for i in in_use.tolist():
            in_use_by_key.setdefault(int(key_all[i]), []).append(i)
        for g in moves.tolist():
            e = int(group_key[g] // n_u)
            new_pairs = cand[take_by_group[group_starts[g] : group_starts[g + 1]]]
            old_pairs = np.asarray(in_use_by_key[int(drop_key[e])], dtype=np.int64)
            ds = np.concatenate([demand_all[new_pairs], demand_all[old_pairs]])
            outs = leaving[demand_all[new_pairs]]
            out_experts = expert_all[outs[outs >= 0]]
            if touched[ds].any() or busy[e] or busy[out_experts].any():
                continue
            touched[ds] = True
            busy[e] = True
            busy[out_experts] = True
            dropped_pairs.append(old_pairs)
            removed.extend(outs[outs >= 0].tolist())
            added.extend(new_pairs.tolist())
        if not added:
            break
        trial = used.copy()
        trial[np.concatenate(dropped_pairs)] = False
        trial[np.asarray(removed, dtype=np.int64)] = False
        trial[np.asarray(added, dtype=np.int64)] = True
        candidate = np.flatnonzero(trial)
        remaining = left()
        candidate = improve_by_replacement(
            compiled, candidate, weight, time_limit=None if remaining is None else max(remaining, 0.0)
        )
        candidate_value = value(candidate)
        if candidate_value <= best_value + MIN_GAIN:
            break
        best, best_value = candidate, candidate_value
        last_round = time.perf_counter() - round_started
    return best
