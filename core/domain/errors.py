from __future__ import annotations


class DomainError(Exception):
    """A rule of the plan refused the request; `message` is fit to show to the person (zh-CN)."""

    def __init__(self, message: str, *, code: str = "domain_error", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        # The input the refusal is about (a key of core.domain.limits.LIMITS, or a form field's name), so a
        # page can show the message beside that field; None when it concerns the request as a whole.
        self.field = field


class NotFound(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_found")


class TransitionError(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="forbidden_transition")


class Stale(DomainError):
    """An act carried the token of a page that is no longer current (another tab, another device, an old
    button): nothing was changed. The channel shows the current page instead."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message, code="stale")
