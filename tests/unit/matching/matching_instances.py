"""What several matching tests build: seeded random instances with fixed and forbidden pairs, and the
benchmark script loaded as a module (its generator is checked against the service's scoring)."""
from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

from core.matching import Demand, Edge, ExpertCapacity, Instance, InstanceError

__all__ = ["load_benchmark", "random_instance"]


def random_instance(rng: random.Random, *, experts: int, demands: int, universities: int, density: float,
                    max_universities: int, max_slots: int, fixed_share: float) -> Instance:
    """Experts with caps up to `max_universities` and `max_slots`, a tenth of the pairs forbidden and about
    `fixed_share` of the rest fixed (none when the fixed pairs would break a cap)."""
    expert_caps = tuple(ExpertCapacity(f"e{i}", rng.randint(0, max_universities), rng.randint(0, max_slots))
                        for i in range(experts))
    demand_rows = tuple(Demand(f"d{j}", f"u{rng.randrange(universities)}", rng.randint(0, 2)) for j in range(demands))
    edges = tuple(
        Edge(e.id, d.id, round(rng.random(), 3)) for e in expert_caps for d in demand_rows if rng.random() < density
    )
    pairs = [(e.expert, e.demand) for e in edges]
    forbidden = frozenset(p for p in pairs if rng.random() < 0.1)
    fixed = frozenset(p for p in pairs if p not in forbidden and rng.random() < fixed_share)
    try:
        return Instance(expert_caps, demand_rows, edges, fixed, forbidden)
    except InstanceError:  # the fixed pairs broke a cap: drop them
        return Instance(expert_caps, demand_rows, edges, frozenset(), forbidden)


def load_benchmark() -> ModuleType:
    """benchmarks/matching_scale.py as a module."""
    path = Path(__file__).resolve().parents[3] / "benchmarks" / "matching_scale.py"
    spec = importlib.util.spec_from_file_location("matching_scale", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]
