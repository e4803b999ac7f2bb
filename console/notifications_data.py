"""The outbox as staff read it: the listing and its rule (Action.NOTIFICATIONS_VIEW) live in core
(core.services.notifications.NotificationService.outbox); this module only names what the page renders."""
from __future__ import annotations

from core.services.notifications import OUTBOX_PAGE_SIZE as PAGE_SIZE
from core.services.notifications import OUTBOX_STATES, RETRYABLE, OutboxPage, OutboxRow

__all__ = ["OUTBOX_STATES", "RETRYABLE", "OutboxRow", "OutboxPage", "PAGE_SIZE"]
