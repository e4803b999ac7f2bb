"""E-mail for the notifier: what a message is, how it is built, and the ways to send it."""
from .delivery import DeliveryOutcome, DeliveryResult, Mailer, RecipientRefusal
from .eml_files import EmlFileMailer
from .fake import FakeMailer
from .message import (
    EmailAttachment,
    EmailMessageSpec,
    InvalidAddress,
    build_email_message,
    calendar_invitation,
    format_sender,
    make_message_id,
    message_bytes,
)
from .smtp import SmtpMailer, SmtpSettings

__all__ = [
    "DeliveryOutcome",
    "DeliveryResult",
    "EmailAttachment",
    "EmailMessageSpec",
    "EmlFileMailer",
    "FakeMailer",
    "InvalidAddress",
    "Mailer",
    "RecipientRefusal",
    "SmtpMailer",
    "SmtpSettings",
    "build_email_message",
    "calendar_invitation",
    "format_sender",
    "make_message_id",
    "message_bytes",
]
