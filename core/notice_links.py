"""The signed link each notice carries to the page where the person acts (core.links), made when the
notice is composed, i.e. when it is sent.

Why at send time, not when the row is queued: the token is a credential (it signs the person in for one
page), so it is never stored in the outbox, whose payloads staff can read and retention keeps for weeks; a
notice that waits in the queue (a reminder due in days, a row retried through an outage) still gets its
full 30 days from the moment it reaches the person; and a changed LINK_SECRET applies to everything not yet
sent. A resent notice carries a new token for the same page, which is harmless: links are re-openable until
they expire and never act by themselves. A proposal's link expires at the answer deadline in the payload.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from core.links import LinkService
from core.services.preferences import DECISION_KINDS, UNSUBSCRIBABLE_KINDS

__all__ = ["LINKED_KINDS", "NoticeLinks", "UNSUBSCRIBE_LIFETIME", "notice_context", "revive"]

# kind -> (link purpose, the payload field naming its object). Proposals' links expire at answer_by.
LINKED_KINDS: dict[str, tuple[str, str]] = {
    "submission_receipt": ("status", "application_id"),
    "review_needs_info": ("needs_info", "application_id"),
    "deadline_reminder": ("apply", "application_id"),
    "recommendations": ("candidates", "application_id"),
    "expert_recommendations": ("universities", "application_id"),
    "match_proposal": ("proposal", "appointment_id"),
    "match_answer_reminder": ("proposal", "appointment_id"),
    "match_proposal_waiting": ("proposal", "appointment_id"),
    "match_deadline_tomorrow": ("proposal", "appointment_id"),
    "publicity_started": ("status", "appointment_id"),
    "publicity_ended": ("status", "appointment_id"),
    "workshop_invitation": ("event", "event_id"),
    "workshop_updated": ("event", "event_id"),
    "workshop_reminder": ("event", "event_id"),
    "workshop_tomorrow": ("event", "event_id"),
}

# An unsubscribe link only ever turns reminders off: it outlives the 30 days of a page link, so that the
# List-Unsubscribe of an older reminder still works when the person finally has enough of them.
UNSUBSCRIBE_LIFETIME = timedelta(days=365)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


class NoticeLinks:
    """Absolute signed links for notices, on the web at `base_url` (WEB_BASE_URL)."""

    def __init__(self, links: LinkService, base_url: str, *, clock: Callable[[], datetime]) -> None:
        self.links = links
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    @classmethod
    def from_core(cls, core, clock: Callable[[], datetime] | None = None) -> "NoticeLinks":
        return cls(core.links, core.settings.web_url, clock=clock or core.clock)

    def page(self, kind: str, person_id: int | None, payload: Mapping[str, Any]) -> str | None:
        """The link of a notice of `kind` to the page where the person acts, or None (a kind that asks
        nothing, a row without a person or without the object in its payload)."""
        spec = LINKED_KINDS.get(kind)
        if spec is None or person_id is None:
            return None
        purpose, field = spec
        object_id = payload.get(field)
        if object_id is None or not str(object_id).isdigit():
            return None
        now = self._clock()
        expires_at = now + timedelta(days=30)
        if purpose == "proposal":
            expires_at = _when(payload.get("answer_by")) or expires_at
        token = self.links.make(person_id, purpose, int(object_id), expires_at)
        return self.links.url(self.base_url, token)

    def unsubscribe(self, kind: str, person_id: int | None) -> str | None:
        """The one-click unsubscribe link for `kind` (reminders and invitations only), or None."""
        if kind not in UNSUBSCRIBABLE_KINDS or person_id is None:
            return None
        token = self.links.make(person_id, "unsubscribe", kind, self._clock() + UNSUBSCRIBE_LIFETIME)
        return self.links.url(self.base_url, token)

    @staticmethod
    def is_decision(kind: str) -> bool:
        return kind in DECISION_KINDS


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


def revive(value: Any) -> Any:
    """An outbox payload as the templates read it: the ISO times it was stored with become datetimes again."""
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [revive(v) for v in value]
    if isinstance(value, dict):
        return {k: revive(v) for k, v in value.items()}
    return value


def notice_context(kind: str, person_id: int | None, payload: Mapping[str, Any], links: NoticeLinks | None,
                   *, reply_to: str | None = None) -> dict[str, Any]:
    """What a notice's templates are rendered with: its payload, the signed link to the page where the person
    acts, the unsubscribe link of a reminder, and whether it is a decision (which cannot be unsubscribed).
    The notifier renders with it, and so does the web's local mailbox page, so both show the same e-mail."""
    from core.forms import get_form
    from core.services.preferences import UNSUBSCRIBABLE_KINDS

    context = revive(dict(payload))
    context.setdefault("name", "")
    context["reply_to"] = reply_to
    context["decision"] = NoticeLinks.is_decision(kind)
    if links is not None:
        context["web_home"] = links.base_url
        web_url = links.page(kind, person_id, payload)
        if web_url:
            context["web_url"] = web_url
        unsubscribe_url = links.unsubscribe(kind, person_id)
        if unsubscribe_url:
            context["unsubscribe_url"] = unsubscribe_url
            context["unsubscribe_label"] = UNSUBSCRIBABLE_KINDS[kind]
    if "form" in context and "form_title" not in context:
        try:
            context["form_title"] = get_form(context["form"]).title
        except (KeyError, ValueError):
            context["form_title"] = ""
    return context
