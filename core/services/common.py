"""Pieces every use case shares: the clock, the audit log, the outbox."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from core.db.models import AuditEntry, Batch, OutboxMessage, Person
from core.db.uow import UnitOfWork
from core.services.views import BatchView, PersonView

__all__ = ["Clock", "utc_now", "audit", "queue_notification", "queue_to_address", "channels_for", "reachable_on",
           "with_channels", "person_view", "batch_view", "CHANNELS"]

Clock = Callable[[], datetime]

CHANNELS = ("email", "telegram")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def audit(uow: UnitOfWork, *, at: datetime, actor: str, action: str, subject: str, **detail: Any) -> None:
    uow.audit.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail))


def reachable_on(person: Person) -> list[str]:
    """The channels the person has, in CHANNELS order: an e-mail address to write to, a Telegram account.

    A person is not a Telegram user: only someone with a Telegram identity has people.telegram_id (the bot's
    registration and the migration keep the two together), and only they are ever told to use the bot.
    Templates read this list as payload["channels"]."""
    has = {"email": bool(person.email), "telegram": person.telegram_id is not None}
    return [channel for channel in CHANNELS if has[channel]]


def with_channels(person: Person, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the person's channels added (a copy: one payload often serves many people)."""
    return {**payload, "channels": reachable_on(person)}


def channels_for(person: Person) -> list[tuple[str, str | None]]:
    """(channel, address) for each row a notice to the person is written as.

    Someone who chose one channel we cannot reach still hears from us on the other. A route with no address
    is kept (the notifier marks it failed for staff to see) except Telegram for a person who has no Telegram
    account: there is nobody to send it to and nothing for staff to fix. Someone with no address at all gets
    one e-mail row without an address, so that staff see they cannot be reached."""
    telegram = str(person.telegram_id) if person.telegram_id is not None else None
    addresses = {"email": person.email or None, "telegram": telegram}
    wanted = CHANNELS if person.preferred_channel == "both" else (person.preferred_channel,)
    routes = [(channel, addresses.get(channel)) for channel in wanted]
    if all(address is None for _, address in routes):
        routes = [(c, a) for c, a in addresses.items() if a] or routes
    routes = [(c, a) for c, a in routes if c != "telegram" or a is not None]
    return routes or [("email", None)]


async def queue_notification(
    uow: UnitOfWork,
    *,
    kind: str,
    person: Person,
    occasion: str,
    payload: dict[str, Any],
    now: datetime,
    due_at: datetime | None = None,
) -> list[OutboxMessage]:
    """Writes one outbox row per channel the person wants, in the caller's transaction.

    The idempotency key (kind, occasion, person, channel) makes queueing the same notice twice a no-op.
    A route with no address is still written: the notifier marks it failed for staff to see.
    """
    rows = []
    payload = with_channels(person, payload)
    for channel, address in channels_for(person):
        key = f"{kind}:{occasion}:person-{person.id}:{channel}"
        if await uow.outbox.get_by_key(key) is not None:
            continue
        row = OutboxMessage(
            kind=kind,
            channel=channel,
            person_id=person.id,
            address=address,
            idempotency_key=key,
            payload=payload,
            status="queued",
            due_at=due_at or now,
            attempts=0,
            created_at=now,
        )
        uow.outbox.add(row)
        rows.append(row)
    return rows


async def queue_to_address(
    uow: UnitOfWork,
    *,
    kind: str,
    channel: str,
    address: str,
    occasion: str,
    payload: dict[str, Any],
    now: datetime,
    person_id: int | None = None,
) -> OutboxMessage | None:
    """One outbox row to an address rather than to a person's routes (a sign-in code goes to the address
    typed, whether or not anyone has it yet). Channel 'email' or 'sms'; the same idempotency key scheme."""
    key = f"{kind}:{occasion}:{channel}"
    if await uow.outbox.get_by_key(key) is not None:
        return None
    row = OutboxMessage(
        kind=kind, channel=channel, person_id=person_id, address=address, idempotency_key=key, payload=payload,
        status="queued", due_at=now, attempts=0, created_at=now,
    )
    uow.outbox.add(row)
    return row

def person_view(person: Person) -> PersonView:
    return PersonView(
        id=person.id,
        telegram_id=person.telegram_id,
        display_name=person.display_name,
        email=person.email,
        mobile=person.mobile,
        preferred_channel=person.preferred_channel,
        role=person.role,
        consented=person.consented_at is not None,
        sensitive_consented=person.sensitive_consented_at is not None,
    )


def batch_view(batch: Batch) -> BatchView:
    return BatchView(
        id=batch.id,
        name=batch.name,
        registration_opens_at=batch.registration_opens_at,
        registration_closes_at=batch.registration_closes_at,
        matching_starts_at=batch.matching_starts_at,
        publicity_starts_at=batch.publicity_starts_at,
    )
