"""A stand-in SMS provider for tests and development: records what it was asked to send, answers
what it is told to. With a log path (development, SMS_PROVIDER unset) each SMS is also appended
there as a JSON line, so a sign-in code can be read without a phone."""
from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from core.ports.sms import SmsResult, SmsStatus

__all__ = ["FakeSmsSender", "SentSms"]


@dataclass(frozen=True)
class SentSms:
    phone: str
    template_code: str
    params: dict[str, str]


class FakeSmsSender:
    def __init__(self, *, log_path: Path | None = None) -> None:
        self.sent: list[SentSms] = []  # accepted sends only
        self.calls: list[SentSms] = []  # every call, whatever was answered
        self._script: deque[SmsResult] = deque()
        self._always: SmsResult | None = None
        self._log_path = log_path

    def fail_next(self, status: SmsStatus, reason: str = "fake failure", *, times: int = 1,
                  code: str | None = None, retry_after: float | None = None) -> None:
        """The next `times` calls answer `status` instead of accepting."""
        for _ in range(times):
            self._script.append(SmsResult(status, reason, provider_code=code, retry_after=retry_after))

    def fail_always(self, status: SmsStatus | None, reason: str = "fake failure", *, code: str | None = None) -> None:
        """Every call answers `status` until told otherwise (None: accept again)."""
        self._always = None if status is None else SmsResult(status, reason, provider_code=code)

    async def send(self, phone: str, template_code: str, params: dict[str, str]) -> SmsResult:
        sms = SentSms(phone, template_code, dict(params))
        self.calls.append(sms)
        if self._script:
            return self._script.popleft()
        if self._always is not None:
            return self._always
        self.sent.append(sms)
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            with self._log_path.open("a", encoding="utf-8") as log:
                log.write(json.dumps({"at": datetime.now(timezone.utc).isoformat(), "phone": phone,
                                      "template_code": template_code, "params": params}, ensure_ascii=False) + "\n")
        return SmsResult(SmsStatus.ACCEPTED, "已发送（模拟短信）", provider_code="OK",
                         provider_reply=f"fake-{len(self.sent)}")
