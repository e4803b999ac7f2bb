"""The day the matching and publicity tests run on: Thursday 2025-08-21, 10:00 Beijing time, in a first batch
open until 2025-09-30 (so a publicity period started today runs over a weekend).

A test module takes this day by importing both fixtures; for that module they replace the suite's `clock`
(2025-07-01) and `settings_for` (deadline 2025-08-15) from tests/conftest.py:

    from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

__all__ = ["DEADLINE", "NOW", "matching_day_clock", "matching_day_settings"]

NOW = datetime(2025, 8, 21, 2, 0, tzinfo=timezone.utc)
DEADLINE = "2025-09-30"


@pytest.fixture(name="clock")
def matching_day_clock(clock):
    """The suite's clock, set to Thursday 2025-08-21, 10:00 Beijing time."""
    clock.now = NOW
    return clock


@pytest.fixture(name="settings_for")
def matching_day_settings(settings_for):
    """The suite's settings_for with the first batch's deadline on 2025-09-30."""
    def make(database_url, **overrides):
        return settings_for(database_url, default_batch_deadline=DEADLINE, **overrides)

    return make
