"""Telegram's error answers: `{"ok": false, "error_code": ..., "description": ...}`."""
from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "bad_request", "error_body"]


class ApiError(Exception):
    """Raised by a method handler; becomes Telegram's error JSON with the same HTTP status."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        return error_body(self.error_code, self.description, self.retry_after)


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def error_body(error_code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": error_code, "description": description}
    if retry_after is not None:
        # aiogram turns parameters.retry_after into TelegramRetryAfter.
        body["parameters"] = {"retry_after": retry_after}
    return body
