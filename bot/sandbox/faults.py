"""Injected failures: make a chosen Bot API method fail (or stall) for a chat, a few times or until cleared.

The notifier's retry/backoff and "blocked by the user" handling are tested by
telling the stand-in to answer as Telegram does when things go wrong.
"""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Fault", "FaultPlan", "PRESETS"]

# kind -> (error_code, description); "{retry_after}" is filled in for flood control.
PRESETS: dict[str, tuple[int, str]] = {
    "flood": (429, "Too Many Requests: retry after {retry_after}"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "server_error": (500, "Internal Server Error"),
    "bad_gateway": (502, "Bad Gateway"),
}

_ids = itertools.count(1)


@dataclass
class Fault:
    method: str  # lower-case Bot API method name, or "*" for every method
    chat_id: str | None = None  # None: any chat (and methods without a chat)
    error_code: int | None = None  # None: no error, only the delay
    description: str = ""
    retry_after: int | None = None
    delay_seconds: float = 0.0
    remaining: int | None = 1  # None: until cleared
    id: int = field(default_factory=lambda: next(_ids))

    def applies_to(self, method: str, chat_id: Any) -> bool:
        if self.method not in ("*", method):
            return False
        return self.chat_id is None or (chat_id is not None and str(chat_id) == self.chat_id)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> "Fault":
        kind = body.get("kind")
        error_code = body.get("error_code")
        description = body.get("description")
        retry_after = body.get("retry_after")
        if kind:
            if kind not in PRESETS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(PRESETS)}")
            preset_code, preset_description = PRESETS[kind]
            error_code = error_code or preset_code
            if kind == "flood" and retry_after is None:
                retry_after = 3
            description = description or preset_description.format(retry_after=retry_after)
        if error_code is not None and not description:
            description = "Bad Request: injected failure" if error_code == 400 else f"Error {error_code}"
        if error_code is None and not body.get("delay_seconds"):
            raise ValueError("a fault needs kind, error_code or delay_seconds")
        chat_id = body.get("chat_id")
        times = body.get("times", 1)
        return cls(
            method=str(body.get("method") or "*").lower(),
            chat_id=None if chat_id is None else str(chat_id),
            error_code=None if error_code is None else int(error_code),
            description=description or "",
            retry_after=None if retry_after is None else int(retry_after),
            delay_seconds=float(body.get("delay_seconds") or 0),
            remaining=None if times in (None, 0) else int(times),
        )


class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def take(self, method: str, chat_id: Any) -> Fault | None:
        """The first fault that fires for this call, counting it down."""
        for fault in self._faults:
            if fault.applies_to(method, chat_id):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def as_json(self) -> list[dict[str, Any]]:
        return [fault.as_json() for fault in self._faults]
