"""The restricted master problem: LP over a growing set of candidate edges, then its MIP.

Model (maximise; HiGHS minimises the negation):
    x_ed in [0,1] per candidate edge, y_eu in [0,1] per (expert, university) it may open
    sum_e x_ed <= need_d                       (demand rows)
    sum_d x_ed <= slots_e                      (slot rows)
    x_ed - y_eu <= 0   when the edge opens u   (link rows)
    sum_u y_eu <= universities_e               (university rows)
Columns are added in place so each LP re-solve starts from the last basis. Both the
LP and the MIP go through highspy's public `Highs` API (`core.matching.lp`).
"""
from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from core.matching.lp import INFINITY, add_empty_rows, new_highs, solved_optimally
from core.matching.model import CompiledInstance

__all__ = ["Duals", "MasterProblem"]


@dataclass
class Duals:
    """Non-negative row duals of the maximisation LP."""

    demand: np.ndarray  # per demand
    slots: np.ndarray  # per expert
    universities: np.ndarray  # per expert
    link: np.ndarray  # per x column (0 where the edge opens no university)
    lp_value: float


class MasterProblem:
    def __init__(self, compiled: CompiledInstance, weight: float):
        self.compiled = compiled
        self.weight = weight
        self.highs = new_highs()
        n_d, n_e = compiled.n_demands, compiled.n_experts
        self.slot_row0 = n_d
        self.university_row0 = n_d + n_e
        upper = np.concatenate(
            [compiled.residual_need, compiled.residual_slots, compiled.residual_universities]
        ).astype(np.float64)
        add_empty_rows(self.highs, np.maximum(upper, 0.0))
        self.n_rows = len(upper)
        self.n_cols = 0
        self.x_positions: list[np.ndarray] = []  # free positions, in x-column order (chunks)
        self.x_columns: list[np.ndarray] = []
        self.x_link_rows: list[np.ndarray] = []  # link row per x column, -1 when none
        self.pair_column: dict[int, int] = {}  # (expert, university) key -> y column
        self.pair_expert: list[int] = []  # expert of each y column, in y order
        self.y_columns: list[int] = []
        self.y_ordinal: dict[int, int] = {}  # y column -> its position in y order
        self.link_pair: list[np.ndarray] = []  # y ordinal of each link row, in link order
        self.n_links = 0
        self.n_universities = len(compiled.university_ids) + 1
        self.solved = False

    @property
    def positions(self) -> np.ndarray:
        return np.concatenate(self.x_positions) if self.x_positions else np.zeros(0, dtype=np.int64)

    def add_edges(self, positions: np.ndarray) -> None:
        """Add x columns for these free-edge positions, with their y columns and link rows."""
        compiled = self.compiled
        positions = np.asarray(positions, dtype=np.int64)
        k = len(positions)
        if k == 0:
            return
        basis = self.highs.getBasis() if self.solved else None
        n_cols_before, n_rows_before = self.n_cols, self.n_rows
        edges = compiled.free[positions]
        expert = compiled.edge_expert[edges]
        demand = compiled.edge_demand[edges]
        cost = -(self.weight + compiled.edge_score[edges])
        index = np.empty(2 * k, dtype=np.int32)
        index[0::2] = demand
        index[1::2] = self.slot_row0 + expert
        self.highs.addCols(
            k, cost, np.zeros(k), np.ones(k), 2 * k, np.arange(0, 2 * k, 2, dtype=np.int32), index, np.ones(2 * k)
        )
        x_columns = self.n_cols + np.arange(k)
        self.n_cols += k

        opens = compiled.free_opens_university[positions]
        keys = expert * self.n_universities + compiled.demand_university[demand]
        new_pairs = [int(key) for key in np.unique(keys[opens]) if int(key) not in self.pair_column]
        if new_pairs:
            m = len(new_pairs)
            pair_expert = np.array(new_pairs, dtype=np.int64) // self.n_universities
            self.highs.addCols(
                m, np.zeros(m), np.zeros(m), np.ones(m), m, np.arange(m, dtype=np.int32),
                (self.university_row0 + pair_expert).astype(np.int32), np.ones(m),
            )
            for offset, key in enumerate(new_pairs):
                column = self.n_cols + offset
                self.pair_column[key] = column
                self.y_ordinal[column] = len(self.y_columns)
                self.y_columns.append(column)
            self.pair_expert.extend(pair_expert.tolist())
            self.n_cols += m

        link_rows = np.full(k, -1, dtype=np.int64)
        opening = np.flatnonzero(opens)
        if len(opening):
            n_links = len(opening)
            y_cols = np.fromiter((self.pair_column[int(key)] for key in keys[opening]), np.int64, n_links)
            index = np.empty(2 * n_links, dtype=np.int32)
            index[0::2] = x_columns[opening]
            index[1::2] = y_cols
            values = np.empty(2 * n_links)
            values[0::2], values[1::2] = 1.0, -1.0
            self.highs.addRows(
                n_links, np.full(n_links, -INFINITY), np.zeros(n_links), 2 * n_links,
                np.arange(0, 2 * n_links, 2, dtype=np.int32), index, values,
            )
            link_rows[opening] = self.n_rows + np.arange(n_links)
            self.link_pair.append(np.fromiter((self.y_ordinal[int(c)] for c in y_cols), np.int64, n_links))
            self.n_rows += n_links
            self.n_links += n_links
        self.x_positions.append(positions)
        self.x_columns.append(x_columns)
        self.x_link_rows.append(link_rows)
        if basis is not None and basis.valid:
            # Priced-in x columns (positive reduced cost) are dual feasible at their upper
            # bound, new y columns at zero, new link rows basic: the dual simplex goes on
            # from the last basis instead of restarting with a phase 1.
            status = highspy.HighsBasisStatus
            x_new = k
            basis.col_status = (
                list(basis.col_status) + [status.kUpper] * x_new + [status.kLower] * (self.n_cols - n_cols_before - x_new)
            )
            basis.row_status = list(basis.row_status) + [status.kBasic] * (self.n_rows - n_rows_before)
            self.highs.setBasis(basis)

    def solve_lp(self, time_limit: float | None) -> tuple[Duals, np.ndarray] | None:
        """Duals and x values of the LP, or None when it did not solve in time."""
        # HiGHS measures time_limit on the instance's clock, which runs on across re-solves.
        limit = INFINITY if time_limit is None else self.highs.getRunTime() + float(time_limit)
        self.highs.setOptionValue("time_limit", limit)
        self.highs.run()
        if not solved_optimally(self.highs):
            return None
        self.solved = True
        solution = self.highs.getSolution()
        # A minimisation's <= rows have non-positive duals; the maximisation's are their negation.
        row_dual = np.maximum(-np.asarray(solution.row_dual), 0.0)
        col_value = np.asarray(solution.col_value)
        n_d, n_e = self.compiled.n_demands, self.compiled.n_experts
        link_rows = np.concatenate(self.x_link_rows)
        link = np.where(link_rows >= 0, row_dual[np.maximum(link_rows, 0)], 0.0)
        duals = Duals(
            demand=row_dual[:n_d],
            slots=row_dual[n_d : n_d + n_e],
            universities=row_dual[n_d + n_e : n_d + 2 * n_e],
            link=link,
            lp_value=-float(self.highs.getInfo().objective_function_value),
        )
        return duals, col_value[np.concatenate(self.x_columns)]

    def link_sums(self, link: np.ndarray) -> np.ndarray:
        """Per y column (in y order): the sum of its link rows' duals."""
        has_link = np.concatenate(self.x_link_rows) >= 0
        pairs = np.concatenate(self.link_pair) if self.link_pair else np.zeros(0, dtype=np.int64)
        return np.bincount(pairs, weights=link[has_link], minlength=len(self.y_columns))

    def solve_mip(self, time_limit: float | None, start: np.ndarray | None = None) -> tuple[np.ndarray | None, float]:
        """Free-edge positions of the best integer solution on the current columns, and
        a proven bound (maximisation) on every integer solution using only these columns.

        A fresh HiGHS instance gets the master's model (`getLp`/`passModel`) with every
        column integer; `start` (free-edge positions of a feasible assignment) is handed
        over as its first incumbent, the pairs outside the master left out (any subset of
        a feasible assignment is feasible).
        """
        lp = self.highs.getLp()
        n_cols = lp.num_col_
        mip = new_highs()
        mip.passModel(lp)
        mip.changeColsIntegrality(
            n_cols, np.arange(n_cols, dtype=np.int32), np.full(n_cols, highspy.HighsVarType.kInteger, dtype=np.uint8)
        )
        mip.setOptionValue("mip_rel_gap", 0.0)
        if time_limit is not None:
            mip.setOptionValue("time_limit", max(float(time_limit), 0.01))
        if start is not None and len(start):
            mip.setSolution(self._as_columns(np.asarray(start, dtype=np.int64)))
        mip.run()
        info = mip.getInfo()
        dual_bound = info.mip_dual_bound
        restricted_bound = -float(dual_bound) if np.isfinite(dual_bound) else np.inf
        if info.primal_solution_status != highspy.kSolutionStatusFeasible:
            return None, restricted_bound
        x = np.asarray(mip.getSolution().col_value)
        return self.positions[x[np.concatenate(self.x_columns)] > 0.5], restricted_bound

    def _as_columns(self, chosen: np.ndarray) -> highspy.HighsSolution:
        """Column values of an assignment (its pairs inside the master), y at 1 where it opens a university."""
        values = np.zeros(self.n_cols)
        x_columns = np.concatenate(self.x_columns)
        order = np.argsort(self.positions)
        sorted_positions = self.positions[order]
        where = np.minimum(np.searchsorted(sorted_positions, chosen), len(sorted_positions) - 1)
        inside = sorted_positions[where] == chosen
        values[x_columns[order[where[inside]]]] = 1.0
        kept = chosen[inside]
        compiled = self.compiled
        opening = kept[compiled.free_opens_university[kept]]
        edges = compiled.free[opening]
        keys = compiled.edge_expert[edges] * self.n_universities + compiled.demand_university[compiled.edge_demand[edges]]
        for key in np.unique(keys).tolist():
            values[self.pair_column[int(key)]] = 1.0
        solution = highspy.HighsSolution()
        solution.col_value = values.tolist()
        return solution
