"""What happened to one outbox row this time, whatever the channel."""
from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Outcome", "SendOutcome"]


class Outcome(enum.Enum):
    SENT = "sent"
    # Nothing reached the recipient; try again later (after `retry_after` when the provider said so).
    TRANSIENT = "transient"
    # Retrying cannot help (address refused, bot blocked, no address).
    PERMANENT = "permanent"
    # It may have arrived: never resent blindly, staff decide.
    UNKNOWN = "unknown"
    # The notice no longer applies (e.g. the draft was submitted before its reminder).
    SKIPPED = "skipped"
    # Not attempted (a rate limit is full): back in the queue, no attempt counted.
    DEFERRED = "deferred"
    # The channel itself cannot deliver (revoked bot token, API unreachable): nothing reached
    # anyone; the channel is paused and the row waits queued, no attempt counted.
    CHANNEL_DOWN = "channel_down"


@dataclass(frozen=True)
class SendOutcome:
    outcome: Outcome
    reason: str = ""
    provider_reply: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait

    @property
    def attempted(self) -> bool:
        return self.outcome not in (Outcome.SKIPPED, Outcome.DEFERRED, Outcome.CHANNEL_DOWN)
