"""How urgent each kind of notification is: the outbox worker claims higher priority first, and a
priority lane claims only URGENT and above, so a sign-in code goes out within seconds even while
thousands of bulk notices are queued. The one place a kind's priority is decided: the outbox
column defaults to it (core.db.models), so code that queues a row does not pass it."""
from __future__ import annotations

__all__ = ["BULK", "NORMAL", "URGENT", "OUTBOX_PRIORITY", "outbox_priority"]

BULK = 0
NORMAL = 10
URGENT = 100  # the priority lane takes these and above

OUTBOX_PRIORITY: dict[str, int] = {
    # Someone is waiting at a sign-in page for it.
    "signin_code": URGENT,
    # Staff learn that a channel stopped delivering.
    "channel_paused": 50,
    # Timed notices a person should act on soon.
    "match_deadline_tomorrow": 20,
    "workshop_tomorrow": 20,
    "workshop_reminder": 20,
    "match_proposal_waiting": NORMAL,
    # Everything else (reviews, invitations, reminders, digests): BULK.
}


def outbox_priority(kind: str | None) -> int:
    return OUTBOX_PRIORITY.get(kind or "", BULK)
