"""From an outbox row to an SMS and back to an outcome: the template registry, the per-number limits,
and the port's answer in the worker's terms (an auth failure pauses the channel)."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.ports.sms import SMS_TEMPLATES, SmsResult, SmsSender, SmsStatus, SmsTemplateError, normalize_mobile, sms_params
from notifier.outcome import Outcome, SendOutcome
from notifier.sms.limits import PerNumberLimits

__all__ = ["SmsChannel", "SmsMessage"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str  # 11 digits
    kind: str
    template_code: str
    params: dict[str, str]


class SmsChannel:
    def __init__(self, sender: SmsSender, *, template_codes: Mapping[str, str | None],
                 limits: PerNumberLimits | None = None) -> None:
        self.sender = sender
        self._template_codes = dict(template_codes)
        self.limits = limits if limits is not None else PerNumberLimits()

    @classmethod
    def from_settings(cls, settings, sender: SmsSender) -> "SmsChannel":
        fake = settings.sms_provider != "aliyun"
        codes = {}
        for kind, template in SMS_TEMPLATES.items():
            # The fake needs no approved template: it records the kind as the template code.
            codes[kind] = getattr(settings, template.setting, None) or (kind if fake else None)
        return cls(sender, template_codes=codes,
                   limits=PerNumberLimits.of(settings.sms_per_number_per_minute, settings.sms_per_number_per_hour))

    def compose(self, *, kind: str, address: str, payload: Mapping[str, Any]) -> SmsMessage:
        """Raises SmsTemplateError when the row cannot become an SMS (nothing to retry)."""
        phone = normalize_mobile(address)
        if phone is None:
            raise SmsTemplateError("手机号码格式不正确（需为中国大陆 11 位手机号）")
        params = sms_params(kind, payload)
        code = self._template_codes.get(kind)
        if not code:
            raise SmsTemplateError(f"未配置短信模板编号 {SMS_TEMPLATES[kind].setting.upper()}")
        return SmsMessage(phone=phone, kind=kind, template_code=code, params=params)

    async def send(self, message: SmsMessage) -> SendOutcome:
        try:
            result = await self.sender.send(message.phone, message.template_code, dict(message.params))
        except Exception as exc:  # an adapter's bug: the request may have gone out
            log.exception("SMS sender raised")
            return SendOutcome(Outcome.UNKNOWN, f"短信发送出错（{type(exc).__name__}），对方可能已收到")
        return to_outcome(result)


def to_outcome(result: SmsResult) -> SendOutcome:
    code = f"（{result.provider_code}）" if result.provider_code and result.provider_code not in result.reason else ""
    reason = f"{result.reason}{code}"
    match result.status:
        case SmsStatus.ACCEPTED:
            return SendOutcome(Outcome.SENT, reason or "已发送（短信）", provider_reply=result.provider_reply)
        case SmsStatus.TRANSIENT:
            return SendOutcome(Outcome.TRANSIENT, reason, provider_reply=result.provider_reply,
                               retry_after=result.retry_after)
        case SmsStatus.PERMANENT:
            return SendOutcome(Outcome.PERMANENT, reason, provider_reply=result.provider_reply)
        case SmsStatus.AUTH:
            return SendOutcome(Outcome.CHANNEL_DOWN, f"短信服务账号不可用：{reason}", provider_reply=result.provider_reply)
        case SmsStatus.UNKNOWN:
            return SendOutcome(Outcome.UNKNOWN, reason, provider_reply=result.provider_reply)
    raise AssertionError(result)
