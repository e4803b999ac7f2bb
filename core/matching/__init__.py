"""Matching experts to university course demands: scoring, recommendations, exact assignment.

Pure code: no I/O. `solve` maximises filled slots, then total score, under the
notice's rule that one expert serves at most 2 universities (several courses at one
university count once), and proves how far from optimal its answer can be.
"""
from core.matching.diagnostics import StabilityReport, UnfilledSlot
from core.matching.instance import Demand, Edge, ExpertCapacity, Instance, InstanceError, parse_instance
from core.matching.scoring import (
    SCORE_WEIGHTS,
    CourseDemand,
    ExpertProfile,
    PairScore,
    Recommendation,
    ScoreTerm,
    build_instance,
    pair_filter,
    recommend,
    score_pair,
)

# The solver pulls in HiGHS (highspy); processes that only score and recommend (the bot)
# never load it.
_SOLVER_NAMES = frozenset({"Solution", "check_assignment", "solve"})


def __getattr__(name: str):
    if name in _SOLVER_NAMES:
        from core.matching import solver

        return getattr(solver, name)
    raise AttributeError(f"module 'core.matching' has no attribute {name!r}")

__all__ = [
    "SCORE_WEIGHTS",
    "CourseDemand",
    "Demand",
    "Edge",
    "ExpertCapacity",
    "ExpertProfile",
    "Instance",
    "InstanceError",
    "PairScore",
    "Recommendation",
    "ScoreTerm",
    "Solution",
    "StabilityReport",
    "UnfilledSlot",
    "build_instance",
    "check_assignment",
    "pair_filter",
    "parse_instance",
    "recommend",
    "score_pair",
    "solve",
]
