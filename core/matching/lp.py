"""The one optimisation stack of the matcher: HiGHS through highspy's public `Highs` API.

Every LP and MIP of `flow` and `master` is built here the same way: rows first, then
columns in CSC form (`addRows`, `addCols`), `setOptionValue` for limits, `run`, then
`getSolution`, `getInfo` and `getModelStatus` for values, duals and bounds.
"""
from __future__ import annotations

import highspy
import numpy as np

__all__ = ["INFINITY", "INTEGRALITY_TOLERANCE", "PRICING_TOLERANCE", "add_empty_rows", "new_highs",
           "solved_optimally"]

INFINITY = highspy.kHighsInf
# A reduced cost below this is numerical noise, not an improving column (pair or edge).
PRICING_TOLERANCE = 1e-7
# An LP value this close to a whole number is that number.
INTEGRALITY_TOLERANCE = 1e-6


class _QuietHighs(highspy.Highs):
    """`highspy.Highs` with its log off before the constructor installs the callbacks.

    Installing them writes HiGHS's banner on stdout (once per process) while logging is
    still on; commands that print JSON on stdout must not get it.
    """

    def enableCallbacks(self):
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


def new_highs() -> highspy.Highs:
    highs = _QuietHighs()
    highs.setOptionValue("output_flag", False)
    return highs


def solved_optimally(highs: highspy.Highs) -> bool:
    return highs.getModelStatus() == highspy.HighsModelStatus.kOptimal


def add_empty_rows(highs: highspy.Highs, upper: np.ndarray) -> None:
    """Rows  -inf <= (nothing yet) <= upper, filled by later `addCols`."""
    n = len(upper)
    if n:
        highs.addRows(
            n, np.full(n, -INFINITY), np.asarray(upper, dtype=np.float64), 0,
            np.zeros(n, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0),
        )
