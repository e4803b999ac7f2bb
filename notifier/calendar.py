"""iCalendar (RFC 5545) invitations for events, written by hand: one VEVENT is all we need.

The UID is derived from the event id alone, so every message about one event (invitation,
update, cancellation) refers to the same calendar entry; SEQUENCE comes from the event and is
bumped on every change, which is how calendar clients know to replace their copy.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

__all__ = ["event_uid", "event_ics"]


def event_uid(event_id: int, domain: str = "innoeng") -> str:
    return f"innoeng-event-{event_id}@{domain}"


def _utc(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (CRLF + space), never inside a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
            limit = 74  # continuation lines start with a space
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


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
    cancelled = method == "CANCEL"
    location = event.get("venue") or event.get("online_url") or ""
    description_parts = [event.get("description") or ""]
    if event.get("online_url"):
        description_parts.append(f"线上参会链接：{event['online_url']}")
    description = "\n".join(part for part in description_parts if part)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//中国创造学会创新工程学分会//innoeng//ZH-CN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{event_uid(int(event['event_id']), domain)}",
        f"SEQUENCE:{int(event.get('sequence', 0))}",
        f"DTSTAMP:{_utc(dtstamp)}",
        f"DTSTART:{_utc(event['starts_at'])}",
        f"DTEND:{_utc(event['ends_at'])}",
        f"SUMMARY:{_escape(str(event.get('kind_label') or '') + '：' + str(event['title']))}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"ORGANIZER;CN={_quote_param(organizer_name)}:mailto:{organizer_email}",
    ]
    if location:
        lines.append(f"LOCATION:{_escape(location)}")
    if event.get("online_url"):
        lines.append(f"URL:{event['online_url']}")
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if attendee_email:
        cn = f";CN={_quote_param(attendee_name)}" if attendee_name else ""
        lines.append(f"ATTENDEE{cn};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{attendee_email}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _quote_param(value: str) -> str:
    # Parameter values may not contain DQUOTE; quoting protects ":" ";" ",".
    return '"' + value.replace('"', "'") + '"'
