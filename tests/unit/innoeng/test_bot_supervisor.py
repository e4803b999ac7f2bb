"""The `innoeng bot --workers N` supervisor: which deaths of a worker it restarts."""
from __future__ import annotations


def test_the_supervisor_restarts_a_worker_killed_right_after_its_start_and_stops_on_a_refusal_or_a_crash_loop():
    from innoeng.supervisor import CRASH_LOOP as _CRASH_LOOP, after_exit as _after_exit

    assert _after_exit(-9, lived_s=1.0, deaths_at_start=0)  # killed (OOM, an operator) moments after starting
    assert _after_exit(1, lived_s=600.0, deaths_at_start=_CRASH_LOOP + 5)  # lived long: always again
    assert not _after_exit(2, lived_s=0.5, deaths_at_start=0)  # refused its configuration: a restart cannot help
    assert _after_exit(1, lived_s=0.5, deaths_at_start=_CRASH_LOOP - 2)
    assert not _after_exit(1, lived_s=0.5, deaths_at_start=_CRASH_LOOP - 1)  # dies at every start
