"""The local mailbox: with no SMTP_HOST the e-mails stay in the outbox; this renders them as they would be sent,
so a newcomer can sign in with the code and follow notices without a mail server.

Its own jinja environment over templates/email/ (the notifier's templates; the notifier is not imported)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from sqlalchemy import select

from core.bootstrap import Core
from core.db.models import OutboxMessage
from core.formatting import format_datetime_cn
from core.notice_links import NoticeLinks, notice_context
from core.ports.sms import SmsTemplateError, sms_params
from core.texts import text

__all__ = ["MailboxEntry", "email_environment", "mailbox_entries", "is_loopback"]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
_BLANK_LINES = re.compile(r"\n{3,}")
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


@dataclass(frozen=True)
class MailboxEntry:
    id: int
    channel: str
    kind: str
    address: str
    status: str
    created_at: datetime
    created_text: str  # 2025年8月15日 18:00（北京时间）
    subject: str
    body: str


def is_loopback(remote: str | None, headers) -> bool:
    """The request comes from this machine itself, not through a proxy on it."""
    forwarded = any(h in headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))
    return remote in LOOPBACK and not forwarded


def email_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,  # plain-text bodies, escaped by the page that shows them
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["datetime_cn"] = format_datetime_cn
    environment.globals["reply_to"] = None
    return environment


def _render(environment: jinja2.Environment, row: OutboxMessage, links: NoticeLinks) -> tuple[str, str]:
    context = notice_context(row.kind, row.person_id, row.payload or {}, links)
    context.setdefault("web_url", links.base_url)
    try:
        subject = environment.get_template(f"email/{row.kind}.subject.txt").render(context)
        if row.channel == "sms":
            # An SMS is the provider's approved template with our values in it, not the e-mail's body (which
            # speaks of "this e-mail"): the subject line says what it is about, the body what we fill in.
            values = "；".join(f"{name}：{value}" for name, value in sms_params(row.kind, context).items())
            return " ".join(subject.split()), text("web.mailbox.sms_body", values=values)
        body = environment.get_template(f"email/{row.kind}.txt").render(context)
    except (jinja2.TemplateError, SmsTemplateError):
        return text("web.mailbox.unrenderable", kind=row.kind), ""
    return " ".join(subject.split()), _BLANK_LINES.sub("\n\n", body).strip()


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # stored in UTC
    return format_datetime_cn(moment)


async def mailbox_entries(core: Core, environment: jinja2.Environment, *, limit: int = 200) -> list[MailboxEntry]:
    """The newest e-mails and SMS first, rendered as they are sent: the same signed links (made now, as the
    notifier makes them when it sends), so a newcomer can follow a notice to its page."""
    links = NoticeLinks.from_core(core)
    async with core.uow() as uow:
        rows = (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel.in_(("email", "sms")))
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit))).all()
        entries = []
        for row in rows:
            subject, body = _render(environment, row, links)
            entries.append(MailboxEntry(id=row.id, channel=row.channel, kind=row.kind, address=row.address or "",
                                        status=row.status, created_at=row.created_at,
                                        created_text=_when(row.created_at), subject=subject, body=body))
    return entries
