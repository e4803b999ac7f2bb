"""web.handoff: the page a POST drew, taken once by the GET its redirect leads to, and never kept long."""
from __future__ import annotations

from web.handoff import PageHandoffs


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_handoff_is_taken_once_for_its_page_and_session():
    ticks = Ticks()
    handoffs = PageHandoffs(ttl_s=3, clock=ticks)
    handoffs.leave("s1", path="/apply", person_id=7, screen="next question")
    assert handoffs.take("s2", "/apply") is None  # another session: nothing
    taken = handoffs.take("s1", "/apply")
    assert taken is not None and taken.screen == "next question" and taken.person_id == 7
    assert handoffs.take("s1", "/apply") is None  # a reload reads again


def test_a_handoff_for_another_page_or_too_old_is_dropped():
    ticks = Ticks()
    handoffs = PageHandoffs(ttl_s=3, clock=ticks)
    handoffs.leave("s1", path="/apply", person_id=7, screen="a")
    assert handoffs.take("s1", "/status") is None
    assert handoffs.take("s1", "/apply") is None and len(handoffs) == 0
    handoffs.leave("s1", path="/apply", person_id=7, screen="b")
    ticks.now += 3.5
    assert handoffs.take("s1", "/apply") is None and len(handoffs) == 0


def test_handoffs_are_bounded_and_a_person_signed_out_has_none():
    handoffs = PageHandoffs(kept=3, clock=Ticks())
    for n in range(5):
        handoffs.leave(f"s{n}", path="/apply", person_id=n % 2, screen=n)
    assert len(handoffs) == 3 and handoffs.take("s0", "/apply") is None  # the oldest went first
    handoffs.drop_person(0)
    assert handoffs.take("s2", "/apply") is None and handoffs.take("s4", "/apply") is None
    assert handoffs.take("s3", "/apply").screen == 3
