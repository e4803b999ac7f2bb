"""From an outbox row to what goes out: an e-mail (subject, text, HTML, maybe an .ics) or a
Telegram message (text, maybe RSVP buttons). Templates: templates/email/<kind>.* and
templates/telegram/<kind>.txt.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.replies import ANSWER_KINDS, RSVP_KINDS, answer_callback_data, rsvp_callback_data
from core.texts import text
from core.calendar import event_ics
from core.notice_links import NoticeLinks, notice_context
from notifier.mail import EmailMessageSpec, calendar_invitation, make_message_id
from notifier.rendering import DEFAULT_TEMPLATES_DIR, EmailRenderer, build_environment
from notifier.telegram import Button, TelegramMessage

__all__ = ["Composer", "OutboxItem"]

# Plain "Name <addr>" is safe only when the name cannot be mistaken for address syntax.
_UNSAFE_DISPLAY = re.compile(r'[<>@,;:"\\\[\]()\r\n]')

CALENDAR_METHODS = {"workshop_invitation": "REQUEST", "workshop_updated": "REQUEST", "workshop_cancelled": "CANCEL"}


@dataclass(frozen=True)
class OutboxItem:
    """The parts of an outbox row that composing and sending need."""

    id: int
    kind: str
    channel: str
    address: str | None
    idempotency_key: str
    payload: Mapping[str, Any]
    person_id: int | None = None  # whom the signed links in it are for (none without)


class Composer:
    def __init__(
        self,
        *,
        mail_from: str,
        reply_to: str | None = None,
        organizer_name: str = "中国创造学会创新工程学分会",
        templates_dir: str | Path = DEFAULT_TEMPLATES_DIR,
        clock=None,
        links: NoticeLinks | None = None,
    ) -> None:
        self._emails = EmailRenderer(templates_dir)
        # Signed links to the web pages where people act (None: notices name the web without a link).
        self._links = links
        self._telegram = build_environment(templates_dir)
        self._mail_from = mail_from
        # Where answers go (Reply-To, the calendar organizer); None: nothing may invite a reply.
        self._reply_to = reply_to or None
        self._domain = mail_from.rsplit("@", 1)[-1] if "@" in mail_from else "innoeng"
        self._organizer_name = organizer_name
        self._clock = clock or (lambda: datetime.now().astimezone())

    def context(self, item: OutboxItem) -> dict[str, Any]:
        return notice_context(item.kind, item.person_id, item.payload, self._links, reply_to=self._reply_to)

    def email(self, item: OutboxItem) -> EmailMessageSpec:
        """Raises jinja2.TemplateNotFound for a kind without templates."""
        context = self.context(item)
        subject, body_text, body_html = self._emails.render(item.kind, context)
        attachments = ()
        method = CALENDAR_METHODS.get(item.kind)
        if method is not None:
            ics = event_ics(
                item.payload, method=method, organizer_email=self._reply_to or self._mail_from,
                organizer_name=self._organizer_name,
                attendee_email=item.address, attendee_name=context.get("name") or None, dtstamp=self._clock(),
                domain=self._domain,
            )
            attachments = (calendar_invitation(ics, filename="invite.ics", method=method),)
        name = str(context.get("name") or "")
        recipient = f"{name} <{item.address}>" if name and not _UNSAFE_DISPLAY.search(name) else str(item.address)
        headers: tuple[tuple[str, str], ...] = ()
        if context.get("unsubscribe_url"):
            # RFC 2369 + RFC 8058: mail clients offer "unsubscribe" and POST List-Unsubscribe=One-Click to it.
            headers = (("List-Unsubscribe", f"<{context['unsubscribe_url']}>"),
                       ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        return EmailMessageSpec(
            to=(recipient,),
            subject=subject,
            text=body_text,
            html=body_html,
            message_id=make_message_id(item.idempotency_key, self._domain),
            attachments=attachments,
            reply_to=self._reply_to,
            headers=headers,
        )

    def sms_payload(self, item: OutboxItem) -> dict[str, Any]:
        """The row's payload with its signed link as the template variable "link" (core.ports.sms)."""
        payload = dict(item.payload)
        if self._links is not None:
            link = self._links.page(item.kind, item.person_id, item.payload)
            if link:
                payload["link"] = link
        return payload

    def telegram(self, item: OutboxItem) -> TelegramMessage:
        """Raises jinja2.TemplateNotFound for a kind without a template, ValueError for a bad chat id."""
        context = self.context(item)
        body = self._telegram.get_template(f"telegram/{item.kind}.txt").render(context).strip()
        buttons: tuple[tuple[Button, ...], ...] = ()
        invitation_id = item.payload.get("invitation_id")
        if item.kind in RSVP_KINDS and invitation_id:
            buttons = ((
                Button(text("events.rsvp_button_yes"), rsvp_callback_data(int(invitation_id), True)),
                Button(text("events.rsvp_button_no"), rsvp_callback_data(int(invitation_id), False)),
            ),)
        appointment_id = item.payload.get("appointment_id")
        if item.kind in ANSWER_KINDS and appointment_id:
            accept = text("match.accept_button" if item.payload.get("side") == "expert" else "match.confirm_button")
            buttons = ((
                Button(accept, answer_callback_data(int(appointment_id), True)),
                Button(text("match.decline_button"), answer_callback_data(int(appointment_id), False)),
            ),)
        return TelegramMessage(chat_id=int(str(item.address)), text=body, buttons=buttons)
