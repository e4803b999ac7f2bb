"""Invitations are built with the icalendar library and read back by a second, independent parser
(vobject), so a quirk shared by our writer and one reader cannot hide."""
from __future__ import annotations

from datetime import datetime, timezone

import icalendar
import vobject

from core.calendar import event_ics, event_uid

EVENT = {
    "event_id": 42, "sequence": 3, "kind_label": "岗前示范交流活动", "title": "创新方法, 第一讲; 线下\\分场",
    "starts_at": "2025-09-01T09:00:00+08:00", "ends_at": "2025-09-01T11:30:00+08:00",
    "venue": "北京市海淀区中关村大街某某大厦 3 层 301 会议室（请从东门进入，携带身份证件）",
    "online_url": "https://meeting.example.org/j/123", "description": "议程：\n一、开场；二、示范课, 讨论",
}
STAMP = datetime(2025, 8, 20, 2, 0, tzinfo=timezone.utc)


def build(method: str = "REQUEST", **overrides) -> str:
    return event_ics(
        EVENT | overrides, method=method, organizer_email="contact@branch.example.org",
        organizer_name="中国创造学会创新工程学分会", attendee_email="wang@example.cn", attendee_name="王建国",
        dtstamp=STAMP, domain="innoeng.test",
    )


def test_a_second_parser_reads_every_field_back():
    ics = build()
    calendar = vobject.readOne(ics)
    assert calendar.method.value == "REQUEST"
    event = calendar.vevent
    assert event.uid.value == "innoeng-event-42@innoeng.test" == event_uid(42, "innoeng.test")
    assert int(event.sequence.value) == 3
    assert event.dtstart.value == datetime(2025, 9, 1, 1, 0, tzinfo=timezone.utc)
    assert event.dtend.value == datetime(2025, 9, 1, 3, 30, tzinfo=timezone.utc)
    # Commas, semicolons, backslashes and newlines survive escaping.
    assert event.summary.value == "岗前示范交流活动：创新方法, 第一讲; 线下\\分场"
    assert event.description.value == "议程：\n一、开场；二、示范课, 讨论\n线上参会链接：https://meeting.example.org/j/123"
    assert event.location.value == EVENT["venue"]
    assert event.status.value == "CONFIRMED"
    assert event.organizer.value == "mailto:contact@branch.example.org"
    assert event.organizer.params["CN"] == ["中国创造学会创新工程学分会"]
    assert event.attendee.value == "mailto:wang@example.cn" and event.attendee.params["CN"] == ["王建国"]


def test_lines_are_folded_within_75_octets_and_never_inside_a_character():
    ics = build().encode("utf-8")
    for line in ics.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a fold inside a multi-byte character would not decode


def test_cancellation_keeps_the_uid_and_both_parsers_agree():
    ics = build("CANCEL", sequence=4)
    ours = icalendar.Calendar.from_ical(ics)
    theirs = vobject.readOne(ics)
    event = next(c for c in ours.walk("VEVENT"))
    assert str(ours["METHOD"]) == theirs.method.value == "CANCEL"
    assert str(event["UID"]) == theirs.vevent.uid.value == "innoeng-event-42@innoeng.test"
    assert int(event["SEQUENCE"]) == int(theirs.vevent.sequence.value) == 4
    assert str(event["STATUS"]) == theirs.vevent.status.value == "CANCELLED"


def test_an_event_without_venue_or_link_has_no_empty_fields():
    calendar = vobject.readOne(build(venue=None, online_url=None, description=""))
    assert not hasattr(calendar.vevent, "location")
    assert not hasattr(calendar.vevent, "url") and not hasattr(calendar.vevent, "description")
