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
from core.matching.solver import Solution, check_assignment, solve

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
