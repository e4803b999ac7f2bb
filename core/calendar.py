"""iCalendar (RFC 5545) invitations for events, built with the `icalendar` library.

The UID is derived from the event id alone, so every message about one event (invitation,
update, cancellation) refers to the same calendar entry; SEQUENCE comes from the event and is
bumped on every change, which is how calendar clients know to replace their copy. The
organizer is the address people can answer (MAIL_REPLY_TO when set).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

__all__ = ["event_uid", "event_ics"]

PRODID = "-//中国创造学会创新工程学分会//innoeng//ZH-CN"


def event_uid(event_id: int, domain: str = "innoeng") -> str:
    return f"innoeng-event-{event_id}@{domain}"


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(timezone.utc)


def _address(email: str, name: str | None, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def event_ics(
    event: Mapping[str, Any],
    *,
    method: str,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str | None,
    attendee_name: str | None = None,
    dtstamp: datetime,
    domain: str = "innoeng",
) -> str:
    """A VCALENDAR for an event payload (see core.services.events.event_payload).

    method: REQUEST for invitations and updates, CANCEL for cancellations.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    entry = Event()
    entry.add("uid", event_uid(int(event["event_id"]), domain))
    entry.add("sequence", int(event.get("sequence", 0)))
    entry.add("dtstamp", _utc(dtstamp))
    entry.add("dtstart", _utc(event["starts_at"]))
    entry.add("dtend", _utc(event["ends_at"]))
    entry.add("summary", str(event.get("kind_label") or "") + "：" + str(event["title"]))
    entry.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    entry.add("organizer", _address(organizer_email, organizer_name))
    location = event.get("venue") or event.get("online_url") or ""
    if location:
        entry.add("location", location)
    if event.get("online_url"):
        entry.add("url", event["online_url"])
    description = "\n".join(
        part for part in (event.get("description") or "",
                          f"线上参会链接：{event['online_url']}" if event.get("online_url") else "") if part
    )
    if description:
        entry.add("description", description)
    if attendee_email:
        entry.add("attendee", _address(attendee_email, attendee_name, ROLE="REQ-PARTICIPANT",
                                       PARTSTAT="NEEDS-ACTION", RSVP="FALSE"))
    calendar.add_component(entry)
    return calendar.to_ical().decode("utf-8")
