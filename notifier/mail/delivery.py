"""What happened to one e-mail, and the interface every way of sending one offers."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .message import EmailMessageSpec

__all__ = ["DeliveryOutcome", "DeliveryResult", "Mailer", "RecipientRefusal"]


class DeliveryOutcome(enum.Enum):
    SENT = "sent"
    # Nothing was accepted and nothing can have been: safe to send again later.
    TRANSIENT = "transient"
    # The server or the address says no; sending again will not help.
    PERMANENT = "permanent"
    # The message data reached the server but its answer did not reach us: the mail
    # may already be in the recipient's inbox, so a blind retry risks a duplicate.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RecipientRefusal:
    address: str
    code: int
    message: str

    @property
    def is_transient(self) -> bool:
        return 400 <= self.code < 500

    def describe(self) -> str:
        return f"{self.address}（SMTP {self.code} {self.message}）"


@dataclass(frozen=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    # Readable for staff: what happened, with the SMTP code and server text where there is one.
    reason: str
    message_id: str | None = None
    smtp_code: int | None = None
    # The server's final reply on success (often carries its queue id), for the record.
    server_reply: str | None = None
    accepted: tuple[str, ...] = ()
    refused: tuple[RecipientRefusal, ...] = ()

    @property
    def is_sent(self) -> bool:
        return self.outcome is DeliveryOutcome.SENT

    @property
    def is_partial(self) -> bool:
        """Sent to some recipients while others were refused."""
        return self.is_sent and bool(self.refused)

    @property
    def retry_recipients(self) -> tuple[str, ...]:
        """Refused recipients whose refusal was temporary (4xx): worth one more try, alone."""
        return tuple(refusal.address for refusal in self.refused if refusal.is_transient)

    @property
    def permanently_refused(self) -> tuple[RecipientRefusal, ...]:
        return tuple(refusal for refusal in self.refused if not refusal.is_transient)


@runtime_checkable
class Mailer(Protocol):
    async def send(self, spec: EmailMessageSpec) -> DeliveryResult:
        """Deliver one message; report the outcome instead of raising for delivery failures."""
        ...

    async def aclose(self) -> None:
        """Release connections; the mailer may be used again afterwards."""
        ...
