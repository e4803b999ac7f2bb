"""What one e-mail says, and how it becomes an RFC 5322 message."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

__all__ = [
    "EmailAttachment",
    "EmailMessageSpec",
    "InvalidAddress",
    "build_email_message",
    "calendar_invitation",
    "envelope_address",
    "format_sender",
    "make_message_id",
    "message_bytes",
]

# One plain mailbox: no spaces, no angle brackets, exactly one "@", a domain with a dot.
_MAILBOX = re.compile(r"^[^\s@<>(),;:\"\[\]\\]+@[^\s@<>(),;:\"\[\]\\]+\.[^\s@<>(),;:\"\[\]\\.]+$")
_ID_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$")
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_SEVEN_BIT_POLICY = SMTP_POLICY.clone(cte_type="7bit")


class InvalidAddress(ValueError):
    """An address that no SMTP server could deliver to; retrying cannot help."""


@dataclass(frozen=True)
class EmailAttachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    # Extra Content-Type parameters, e.g. (("method", "REQUEST"),) for calendar invitations.
    parameters: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if "/" not in self.mime_type:
            raise ValueError(f"mime_type must be type/subtype, got {self.mime_type!r}")
        if not self.filename or any(ch in self.filename for ch in "/\\\r\n"):
            raise ValueError(f"unsafe attachment file name {self.filename!r}")


def calendar_invitation(ics: bytes | str, filename: str = "invite.ics", method: str = "REQUEST") -> EmailAttachment:
    """An .ics attachment that calendar clients offer to add (method=REQUEST) or cancel (CANCEL)."""
    content = ics.encode("utf-8") if isinstance(ics, str) else ics
    return EmailAttachment(
        filename=filename,
        content=content,
        mime_type="text/calendar",
        parameters=(("method", method), ("charset", "utf-8")),
    )


@dataclass(frozen=True)
class EmailMessageSpec:
    """One e-mail to send; the same spec always builds the same message (apart from Date).

    `to` entries are "addr@example.cn" or "姓名 <addr@example.cn>".
    `envelope_to`, when set, restricts who actually receives it (the To header stays
    as written) so that a retry after a partial refusal reaches only the refused ones.
    """

    to: tuple[str, ...]
    subject: str
    text: str
    message_id: str
    html: str | None = None
    attachments: tuple[EmailAttachment, ...] = ()
    reply_to: str | None = None
    envelope_to: tuple[str, ...] = field(default=())
    # Extra header fields, e.g. List-Unsubscribe; names and values without line breaks.
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # A lone string is a common slip; a tuple of its characters would be nonsense.
        for name in ("to", "envelope_to"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "attachments", tuple(self.attachments))
        object.__setattr__(self, "headers", tuple((str(k), str(v)) for k, v in self.headers))
        for name, value in self.headers:
            if not name or any(ch in name + value for ch in "\r\n") or ":" in name:
                raise ValueError(f"unsafe header {name!r}")
        if not (self.message_id.startswith("<") and self.message_id.endswith(">") and "@" in self.message_id):
            raise ValueError(f"message_id must look like <left@right>, got {self.message_id!r}")

    def recipients(self) -> tuple[str, ...]:
        """Bare addresses for the SMTP envelope. Raises InvalidAddress."""
        entries = self.envelope_to or self.to
        if not entries:
            raise InvalidAddress("没有收件人地址")
        return tuple(dict.fromkeys(envelope_address(entry) for entry in entries))

    def for_recipients(self, addresses: tuple[str, ...] | list[str]) -> EmailMessageSpec:
        """The same message, delivered only to `addresses` (e.g. DeliveryResult.retry_recipients)."""
        return replace(self, envelope_to=tuple(addresses))


def envelope_address(entry: str) -> str:
    """The bare mailbox of "addr" or "Name <addr>"; raises InvalidAddress if there is none."""
    if entry is None or not entry.strip() or "\r" in entry or "\n" in entry:
        raise InvalidAddress(f"收件人地址无效：{entry!r}")
    _, address = parseaddr(entry)
    if not _MAILBOX.match(address or ""):
        raise InvalidAddress(f"收件人地址无效：{entry!r}")
    return address


def format_sender(address: str, display_name: str | None = None) -> str:
    """A From value such as "中国创造学会创新工程学分会 <noreply@example.cn>"."""
    if not _MAILBOX.match(address):
        raise InvalidAddress(f"发件人地址无效：{address!r}")
    if not display_name:
        return address
    username, domain = address.rsplit("@", 1)
    return str(Address(display_name=display_name, username=username, domain=domain))


def make_message_id(key: str, domain: str = "innoeng") -> str:
    """A Message-ID that is the same every time for the same idempotency key.

    A resent notification therefore carries the same Message-ID, which lets mail
    clients and staff see it is one message, not two. The readable prefix helps
    staff; the hash keeps distinct keys distinct after unsafe characters are dropped.
    """
    if not key:
        raise ValueError("an idempotency key is required")
    if not _ID_DOMAIN.match(domain):
        raise ValueError(f"invalid Message-ID domain {domain!r}")
    readable = _UNSAFE_ID_CHARS.sub("-", key).strip("-")[:48].strip("-") or "n"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"<notification-{readable}.{digest}@{domain}>"


def build_email_message(
    spec: EmailMessageSpec, *, sender: str, date: datetime | None = None, eight_bit: bool = True
) -> EmailMessage:
    """multipart/alternative (text + HTML), wrapped in multipart/mixed when there are attachments.

    With `eight_bit` the Chinese text stays readable in the raw message (.eml files,
    relays announcing 8BITMIME); without it bodies are base64/quoted-printable.
    """
    message = EmailMessage(policy=SMTP_POLICY if eight_bit else _SEVEN_BIT_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(spec.to)
    if spec.reply_to:
        message["Reply-To"] = spec.reply_to
    message["Subject"] = spec.subject
    message["Date"] = format_datetime(date or datetime.now(timezone.utc))
    message["Message-ID"] = spec.message_id
    # Tells vacation responders not to answer; people can still reply by hand.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in spec.headers:
        message[name] = value

    message.set_content(spec.text, subtype="plain", charset="utf-8")
    if spec.html is not None:
        message.add_alternative(spec.html, subtype="html", charset="utf-8")
    for attachment in spec.attachments:
        maintype, subtype = attachment.mime_type.split("/", 1)
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=dict(attachment.parameters),
        )
    return message


def message_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire, CRLF line ends."""
    return message.as_bytes(policy=message.policy)
