"""SMS behind a port: the core says which approved template goes to which mobile with which values;
an adapter (Alibaba Cloud Dysmsapi, or a fake in tests and development) sends it.

Mainland SMS templates are approved by the provider in advance (their wording is fixed there, we only
fill in the variables), so the templates we may send are a fixed registry here: kind -> the setting
that holds the provider's template code, and the names of its variables, filled from the outbox
row's payload. A kind not in the registry cannot go out by SMS.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "SMS_TEMPLATES",
    "SmsResult",
    "SmsSender",
    "SmsStatus",
    "SmsTemplate",
    "SmsTemplateError",
    "normalize_mobile",
    "sms_params",
]


class SmsStatus(enum.Enum):
    ACCEPTED = "accepted"  # the provider took it (delivery to the handset is reported later, if at all)
    TRANSIENT = "transient"  # nothing sent; may work later (throttled, provider error, unreachable)
    PERMANENT = "permanent"  # this message can never go (number invalid, template variables refused)
    AUTH = "auth"  # our account cannot send at all (key, signature, sign name, balance): pause the channel
    UNKNOWN = "unknown"  # the request went out and no answer came back: it may have been sent


@dataclass(frozen=True)
class SmsResult:
    status: SmsStatus
    reason: str = ""
    provider_code: str | None = None  # e.g. "OK", "isv.BUSINESS_LIMIT_CONTROL"
    provider_reply: str | None = None  # what to keep on the row (request id, BizId)
    retry_after: float | None = None  # seconds the provider asked us to wait, when it said

    @property
    def accepted(self) -> bool:
        return self.status is SmsStatus.ACCEPTED


@runtime_checkable
class SmsSender(Protocol):
    async def send(self, phone: str, template_code: str, params: dict[str, str]) -> SmsResult:
        """Sends one approved template to one mainland mobile (11 digits). Never raises for what the
        provider answers; a bug may still raise."""
        ...


@dataclass(frozen=True)
class SmsTemplate:
    kind: str
    # The Settings field holding the provider's template code (e.g. Aliyun's "SMS_123456789").
    setting: str
    params: tuple[str, ...]


def _template(kind: str, *params: str) -> SmsTemplate:
    return SmsTemplate(kind=kind, setting=f"aliyun_sms_template_{kind}", params=params)


# Our approved templates. Adding one: apply for it with the provider, add it here and a setting
# ALIYUN_SMS_TEMPLATE_<KIND> in core/settings.py.
SMS_TEMPLATES: Mapping[str, SmsTemplate] = {
    t.kind: t for t in (
        _template("signin_code", "code"),
        _template("match_proposal_waiting", "link"),
        _template("match_deadline_tomorrow", "link"),
        _template("workshop_tomorrow", "title", "link"),
    )
}


class SmsTemplateError(ValueError):
    """The row cannot become an SMS: no approved template for its kind, or a variable is missing."""


def sms_params(kind: str, payload: Mapping[str, Any]) -> dict[str, str]:
    """The template variables of `kind`, taken from the payload by name, as strings."""
    template = SMS_TEMPLATES.get(kind)
    if template is None:
        raise SmsTemplateError(f"「{kind}」没有已审核的短信模板，不能以短信发送")
    params: dict[str, str] = {}
    for name in template.params:
        value = payload.get(name)
        if value is None or str(value).strip() == "":
            raise SmsTemplateError(f"短信模板「{kind}」缺少变量「{name}」")
        params[name] = str(value).strip()
    return params


_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalize_mobile(value: str | None) -> str | None:
    """A mainland mobile as 11 digits (spaces, dashes and a +86 / 0086 prefix removed), or None."""
    if not value:
        return None
    digits = re.sub(r"[\s\-()]", "", value)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    return digits if _MOBILE.fullmatch(digits) else None
