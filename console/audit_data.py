"""The audit log as staff search it: the search and its rule (Action.AUDIT_READ) live in core
(core.services.audit.AuditService.search, `core.audit`); this module only names what the page renders."""
from __future__ import annotations

from core.services.audit import PAGE_SIZE, AuditPage, AuditRow, logged_actions

__all__ = ["AuditRow", "AuditPage", "PAGE_SIZE", "logged_actions"]
