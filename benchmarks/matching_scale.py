"""Matching at national scale: our exact solver against a min-cost-flow and a hospital–resident baseline.

    python benchmarks/matching_scale.py --tier S|M|L|XL [--seed N] [--time-limit S] [--hr-timeout S]

Generates a realistic batch (universities' course demands, experts' applications), then
does what the service does for a run, in this process: the candidate pairs the hard
filters of `core.matching.scoring` allow, scored with its weights, as columns
(`build_instance`: at national scale each demand keeps only its best pairs), and our
solver (`core.matching.solve`: at most max_universities distinct universities per
expert). `peak_rss_mb` is the process's peak resident memory over both (the generated
profiles included), `build_s` the time to build the instance. Beside it, each in a forked
child over every candidate pair (so their memory is not ours), stopped at a timeout:
- the openreview-matcher MinMax-style baseline: min-cost flow, each expert capped at
  min(max_slots, max_universities) slots, since a flow cannot count universities
  (`--flow-timeout`);
- the `matching` library's HospitalResident (one demand per expert), because at
  national scale it may not finish (`--hr-timeout`).
With `--trace-memory`, `traced_peak_mb` is what building and solving allocated at the
peak (tracemalloc, which slows Python-level code, so the time and gap of such a run are
not the figures).
The last stdout line is one JSON object with the numbers.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.matching import CourseDemand, ExpertProfile, Instance, build_instance, solve  # noqa: E402
from core.matching.flow import min_cost_flow_assignment  # noqa: E402
from core.matching.candidates import candidate_count  # noqa: E402
from core.matching.model import compile_instance  # noqa: E402
from core.domain.courses import CORE_COURSES as COURSES  # noqa: E402
from core.domain.vocabulary import PRIORITY_CONDITIONS  # noqa: E402

TIERS = {
    # universities, experts, provinces
    "S": (80, 250, 1),
    "M": (300, 1_000, 8),
    "L": (1_300, 10_000, 31),
    # A national batch if every province joins: ~57M candidate pairs.
    "XL": (3_000, 50_000, 31),
}
PROVINCES = (
    "广东", "江苏", "山东", "河南", "湖北", "湖南", "四川", "河北", "浙江", "安徽", "北京",
    "辽宁", "陕西", "江西", "福建", "广西", "山西", "云南", "黑龙江", "吉林", "重庆", "上海",
    "贵州", "天津", "甘肃", "内蒙古", "新疆", "海南", "宁夏", "青海", "西藏",
)
SEMESTERS = ("2025秋", "2026春")
PATTERNS = ("工作日白天", "工作日晚上", "周末", "集中授课")
TIME_SLOTS = tuple(f"{s}/{p}" for s in SEMESTERS for p in PATTERNS)
PRIORITY_CODES = tuple(PRIORITY_CONDITIONS)


@dataclass
class Batch:
    experts: list[ExpertProfile]
    demands: list[CourseDemand]


def _bits_to_set(bits: int, names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name for i, name in enumerate(names) if bits >> i & 1)


def generate_batch(tier: str, seed: int = 0) -> Batch:
    """Applications and intents shaped like the notice's first batch, at the tier's size."""
    n_universities, n_experts, n_provinces = TIERS[tier]
    rng = np.random.default_rng(seed)
    provinces = PROVINCES[:n_provinces]
    # Universities and experts cluster in a few provinces, as they do.
    province_weight = rng.dirichlet(np.full(n_provinces, 2.0)) if n_provinces > 1 else np.ones(1)

    experts: list[ExpertProfile] = []
    for i in range(n_experts):
        n_courses = rng.choice([1, 2, 3, 4], p=[0.45, 0.35, 0.15, 0.05])
        courses = tuple(COURSES[c] for c in rng.choice(4, size=n_courses, replace=False, p=[0.35, 0.25, 0.25, 0.15]))
        modes = str(rng.choice(["online", "offline", "both"], p=[0.30, 0.15, 0.55]))
        province = provinces[rng.choice(n_provinces, p=province_weight)]
        offline = {province}
        if n_provinces > 1 and rng.random() < 0.2:
            offline.add(provinces[rng.integers(n_provinces)])
        semesters = [0, 1] if rng.random() < 0.7 else [int(rng.integers(2))]
        patterns = [p for p, chance in enumerate([0.2, 0.5, 0.7, 0.4]) if rng.random() < chance] or [2]
        times = frozenset(f"{SEMESTERS[s]}/{PATTERNS[p]}" for s in semesters for p in patterns)
        conditions = frozenset(c for c, chance in zip(PRIORITY_CODES, [0.08, 0.08, 0.05, 0.10, 0.05, 0.03]) if rng.random() < chance)
        experts.append(
            ExpertProfile(
                id=f"e{i}",
                courses=courses,
                modes=modes,
                province=province,
                offline_provinces=frozenset(offline),
                times=times,
                priority_conditions=conditions,
                is_member=bool(rng.random() < 0.25),
                max_universities=1 if rng.random() < 0.3 else 2,
                max_slots=int(rng.choice([1, 2, 3, 4], p=[0.2, 0.4, 0.3, 0.1])),
            )
        )

    demands: list[CourseDemand] = []
    for u in range(n_universities):
        province = provinces[rng.choice(n_provinces, p=province_weight)]
        mode = str(rng.choice(["online", "offline", "both"], p=[0.35, 0.35, 0.30]))
        semester = SEMESTERS[int(rng.integers(2))]
        n_courses = rng.choice([1, 2, 3, 4], p=[0.25, 0.35, 0.25, 0.15])
        for c in rng.choice(4, size=n_courses, replace=False, p=[0.35, 0.25, 0.20, 0.20]):
            patterns = [p for p, chance in enumerate([0.3, 0.4, 0.5, 0.4]) if rng.random() < chance] or [2]
            demands.append(
                CourseDemand(
                    id=f"u{u}-c{c}",
                    university_id=f"u{u}",
                    course=COURSES[c],
                    need=int(rng.choice([1, 2, 3], p=[0.75, 0.20, 0.05])),
                    mode=mode,
                    province=province,
                    times=frozenset(f"{semester}/{PATTERNS[p]}" for p in patterns),
                )
            )
    return Batch(experts, demands)


def full_instance(batch: Batch) -> Instance:
    """Every candidate pair of the batch (the baselines' input): no demand keeps only its best."""
    return build_instance(batch.experts, batch.demands, prune_above=0)


def flow_baseline(instance: Instance) -> dict:
    started = time.perf_counter()
    compiled = compile_instance(instance)
    chosen = min_cost_flow_assignment(compiled)
    elapsed = time.perf_counter() - started
    return {
        "flow_filled": int(len(chosen)),
        "flow_score": round(float(compiled.edge_score[compiled.free[chosen]].sum()), 6),
        "flow_time_s": round(elapsed, 3),
    }


def _flow_child(batch: Batch, results: multiprocessing.Queue) -> None:
    try:
        results.put(flow_baseline(full_instance(batch)))
    except BaseException as exc:  # e.g. out of memory at XL: the finding, not a crash
        results.put({"flow_filled": None, "flow_score": None, "flow_status": f"failed: {type(exc).__name__}: {exc}"[:160]})


def _in_child(target, batch: Batch, timeout: float, prefix: str) -> dict:
    """`target(batch, results)` in a forked child (its memory is not the solver's), stopped after `timeout` s;
    a child that times out or dies reports `<prefix>_filled` None and why in `<prefix>_status`."""
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue = context.Queue()
    started = time.perf_counter()
    process = context.Process(target=target, args=(batch, results), daemon=True)
    process.start()
    outcome = None
    while outcome is None and time.perf_counter() - started < timeout:
        try:
            outcome = results.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive() and results.empty():
                break
    if outcome is None:
        outcome = {
            f"{prefix}_filled": None,
            f"{prefix}_time_s": round(time.perf_counter() - started, 3),
            f"{prefix}_status": "timeout" if process.is_alive() else f"failed (exit {process.exitcode})",
        }
    if process.is_alive():
        process.terminate()
    process.join(5)
    return outcome


def flow_baseline_isolated(batch: Batch, timeout: float) -> dict:
    """`flow_baseline` over every candidate pair, in a forked child, stopped after `timeout` s."""
    outcome = {"flow_score": None, **_in_child(_flow_child, batch, timeout, "flow")}
    outcome.setdefault("flow_status", "ok")
    return outcome


def _release_free_memory() -> None:
    """Hand the generator's freed heap back to the OS (glibc keeps it otherwise: ~1.7 GB
    at XL from the per-demand arrays), so the RSS figures measure the solver."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (Linux: writing 5 to clear_refs); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _rss_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _hospital_resident(batch: Batch, results: multiprocessing.Queue) -> None:
    # The library deep-copies its linked player objects recursively: give it a deep stack
    # (a thread's is settable, the main thread's is not) before calling it a failure.
    import threading

    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 29)
    worker = threading.Thread(target=_guarded_hospital_resident, args=(batch, results))
    worker.start()
    worker.join()


def _guarded_hospital_resident(batch: Batch, results: multiprocessing.Queue) -> None:
    started = time.perf_counter()
    try:
        _run_hospital_resident(full_instance(batch), results, started)
    except BaseException as exc:  # the library's own limits (recursion, memory) are the finding
        results.put(
            {
                "hr_filled": None,
                "hr_time_s": round(time.perf_counter() - started, 3),
                "hr_status": f"failed: {type(exc).__name__}: {str(exc)[:120]}",
            }
        )


def _run_hospital_resident(instance: Instance, results: multiprocessing.Queue, started: float) -> None:
    from matching.games import HospitalResident

    resident_prefs: dict[str, list[tuple[float, str]]] = {e.id: [] for e in instance.experts}
    hospital_prefs: dict[str, list[tuple[float, str]]] = {d.id: [] for d in instance.demands}
    for edge in instance.edges:
        resident_prefs[edge.expert].append((-edge.score, edge.demand))
        hospital_prefs[edge.demand].append((-edge.score, edge.expert))
    resident_prefs = {r: [h for _, h in sorted(p)] for r, p in resident_prefs.items() if p}
    hospital_prefs = {h: [r for _, r in sorted(p)] for h, p in hospital_prefs.items() if p}
    capacities = {d.id: d.need for d in instance.demands if d.id in hospital_prefs}
    game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
    result = game.solve(optimal="hospital")
    filled = sum(len(residents) for residents in result.values())
    results.put({"hr_filled": filled, "hr_time_s": round(time.perf_counter() - started, 3), "hr_status": "ok"})


def hospital_resident_baseline(batch: Batch, timeout: float) -> dict:
    """The library's HR (each expert at most one demand), stopped after `timeout` seconds."""
    return _in_child(_hospital_resident, batch, timeout, "hr")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=sorted(TIERS), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=60.0, help="solver time limit, seconds")
    parser.add_argument("--hr-timeout", type=float, default=300.0, help="HospitalResident time-out, seconds")
    parser.add_argument("--no-hr", action="store_true", help="skip the HospitalResident baseline")
    parser.add_argument(
        "--trace-memory", action="store_true", help="also trace the solver's allocations (tracemalloc; slows it)"
    )
    parser.add_argument("--flow-timeout", type=float, default=900.0, help="min-cost-flow baseline time-out, seconds")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    batch = generate_batch(args.tier, args.seed)
    _release_free_memory()
    print(
        f"tier {args.tier}: {len(batch.experts)} experts, {len(batch.demands)} demands,"
        f" {sum(d.need for d in batch.demands)} slots (generated in {time.perf_counter() - started:.1f}s)",
        file=sys.stderr,
    )

    # What the service does for a run: candidate pairs from the profiles (each demand's best
    # only, at national scale), then the solve; the peak memory is of both.
    rss_before = _rss_mb("VmRSS")
    peak_reset = _reset_peak_rss()
    if args.trace_memory:
        tracemalloc.start()
    load_before = os.getloadavg()
    build_started = time.perf_counter()
    instance = build_instance(batch.experts, batch.demands)
    build_s = time.perf_counter() - build_started
    solution = solve(instance, time_limit=args.time_limit)
    load_after = os.getloadavg()
    traced_peak = tracemalloc.get_traced_memory()[1] if args.trace_memory else None
    tracemalloc.stop()
    peak_rss = _rss_mb("VmHWM") if peak_reset else None
    candidates = solution.stats.get("instance_edges", len(instance.edges))
    print(f"solver stats: {solution.stats}", file=sys.stderr)
    result = {
        "tier": args.tier,
        "experts": len(instance.experts),
        "demands": len(instance.demands),
        "slots": sum(d.need for d in instance.demands),
        "candidate_pairs": candidate_count(batch.experts, batch.demands) if instance.dropped_below else candidates,
        "edges": len(instance.edges),
        "build_s": round(build_s, 3),
        "time_s": round(solution.time_s, 3),
        "filled": solution.filled,
        "score": round(solution.score, 6),
        "bound": round(solution.bound, 6),
        "gap": round(solution.gap, 8),
        "status": solution.status,
        "blocking_pairs": solution.stability.blocking_pairs if solution.stability else None,
        "time_limit": args.time_limit,
        "rss_before_build_mb": rss_before,
        "peak_rss_mb": peak_rss,
        "traced_peak_mb": round(traced_peak / 2**20, 1) if traced_peak is not None else None,
        "load_average": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "stats": solution.stats,
    }
    del instance
    result.update(flow_baseline_isolated(batch, args.flow_timeout))
    if args.no_hr:
        result.update({"hr_filled": None, "hr_time_s": None, "hr_status": "skipped"})
    else:
        result.update(hospital_resident_baseline(batch, args.hr_timeout))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
