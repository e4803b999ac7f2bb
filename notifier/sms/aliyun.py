"""Alibaba Cloud SMS (Dysmsapi 2017-05-25, SendSms) through the official async SDK
(alibabacloud_dysmsapi20170525, `send_sms_async`).

The SDK signs the request and raises for HTTP 4xx/5xx; SendSms answers business refusals with
HTTP 200 and a Code other than "OK". Both become one SmsResult by the code:

  OK                                         accepted (BizId and RequestId kept on the row)
  isv.BUSINESS_LIMIT_CONTROL, Throttling.*,  transient: the provider's own per-number / per-account
  isp.SYSTEM_ERROR, 5xx, connection refused  limits or an outage; the outbox retries by age
  InvalidAccessKeyId.*, SignatureDoesNotMatch, auth: nothing can go until someone fixes the account
  isv.SMS_SIGNATURE_ILLEGAL, isv.AMOUNT_NOT_ENOUGH, (the channel is paused, staff alerted)
  isv.OUT_OF_SERVICE, isp.RAM_PERMISSION_DENY ...
  isv.MOBILE_NUMBER_ILLEGAL and other 4xx    permanent: this message cannot go
  read timeout, connection lost mid-request  unknown: it may have been sent

The endpoint is a setting (ALIYUN_SMS_ENDPOINT), with http:// for a local stand-in in tests.
The SDK is imported on first use: it takes a third of a second to load.
"""
from __future__ import annotations

import json
from typing import Any

from core.ports.sms import SmsResult, SmsStatus

__all__ = ["AliyunSmsSender", "classify"]

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"

_TRANSIENT = {
    "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR",
    "SignatureNonceUsed", "ServiceUnavailable", "InternalError", "isv.SMS_CONTENT_ILLEGAL_LIMIT",
}
_AUTH = {
    "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "IncompleteSignature", "InvalidTimeStamp.Expired", "isp.RAM_PERMISSION_DENY", "Forbidden.RAM",
    "Forbidden.AccessKeyDisabled", "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGN_ILLEGAL", "isv.AMOUNT_NOT_ENOUGH",
    "isv.OUT_OF_SERVICE", "isv.ACCOUNT_NOT_EXISTS", "isv.ACCOUNT_ABNORMAL", "InvalidCredentials",
}


def classify(code: str | None, *, http_status: int | None = None) -> SmsStatus:
    if code == "OK":
        return SmsStatus.ACCEPTED
    if code in _AUTH or (code or "").startswith(("InvalidAccessKeyId", "Forbidden.RAM")):
        return SmsStatus.AUTH
    if code in _TRANSIENT or (code or "").startswith("Throttling"):
        return SmsStatus.TRANSIENT
    if http_status is not None and http_status >= 500:
        return SmsStatus.TRANSIENT
    return SmsStatus.PERMANENT


class AliyunSmsSender:
    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str,
                 endpoint: str = DEFAULT_ENDPOINT, timeout_s: float = 10.0) -> None:
        if not (access_key_id and access_key_secret and sign_name):
            raise ValueError("SMS_PROVIDER=aliyun 需要 ALIYUN_SMS_ACCESS_KEY_ID、ALIYUN_SMS_ACCESS_KEY_SECRET 和 ALIYUN_SMS_SIGN_NAME")
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self._sign_name = sign_name
        protocol, _, host = endpoint.partition("://") if "://" in endpoint else ("https", "", endpoint)
        self._protocol = protocol.lower()
        self._host = host.rstrip("/")
        self._timeout_ms = int(timeout_s * 1000)
        self._client = None

    @classmethod
    def from_settings(cls, settings) -> "AliyunSmsSender":
        secret = settings.aliyun_sms_access_key_secret
        return cls(
            access_key_id=settings.aliyun_sms_access_key_id or "",
            access_key_secret=secret.get_secret_value() if secret is not None else "",
            sign_name=settings.aliyun_sms_sign_name or "",
            endpoint=settings.aliyun_sms_endpoint,
            timeout_s=settings.aliyun_sms_timeout_s,
        )

    def _sdk(self):
        if self._client is None:
            from alibabacloud_dysmsapi20170525.client import Client
            from alibabacloud_tea_openapi.utils_models import Config

            self._client = Client(Config(
                access_key_id=self._access_key_id, access_key_secret=self._access_key_secret,
                endpoint=self._host, protocol=self._protocol,
                connect_timeout=min(self._timeout_ms, 5000), read_timeout=self._timeout_ms,
            ))
        return self._client

    async def send(self, phone: str, template_code: str, params: dict[str, str]) -> SmsResult:
        from alibabacloud_dysmsapi20170525 import models
        from darabonba.exceptions import ResponseException, UnretryableException

        request = models.SendSmsRequest(
            phone_numbers=phone, sign_name=self._sign_name, template_code=template_code,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        try:
            response = await self._sdk().send_sms_async(request)
        except ResponseException as exc:  # HTTP 4xx/5xx with an error code
            code = getattr(exc, "code", None)
            status = classify(code, http_status=getattr(exc, "status_code", None))
            return SmsResult(status, _reason(code, _message(exc)), provider_code=code,
                             provider_reply=_reply(request_id=getattr(exc, "request_id", None)))
        except UnretryableException as exc:  # the network: the SDK keeps only the message
            inner = getattr(exc, "inner_exception", None) or exc
            message = str(getattr(inner, "message", None) or inner)
            if message.startswith(("Cannot connect to host", "Connection timeout to host")):
                return SmsResult(SmsStatus.TRANSIENT, f"无法连接短信服务（{message}）")
            return SmsResult(SmsStatus.UNKNOWN, f"已发出请求但未收到短信服务的答复（{message}），对方可能已收到")
        body = response.body
        code = getattr(body, "code", None)
        status = classify(code, http_status=getattr(response, "status_code", None))
        reply = _reply(request_id=getattr(body, "request_id", None), biz_id=getattr(body, "biz_id", None))
        if status is SmsStatus.ACCEPTED:
            return SmsResult(status, "已发送（阿里云短信）", provider_code=code, provider_reply=reply)
        return SmsResult(status, _reason(code, getattr(body, "message", None)), provider_code=code, provider_reply=reply)


def _message(exc: Any) -> str | None:
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and data.get("Message"):
        return str(data["Message"])
    return getattr(exc, "message", None)


def _reason(code: str | None, message: str | None) -> str:
    return f"阿里云短信拒绝：{code or '未知错误'}" + (f"，{message}" if message else "")


def _reply(*, request_id: str | None, biz_id: str | None = None) -> str | None:
    parts = [f"BizId={biz_id}" if biz_id else "", f"RequestId={request_id}" if request_id and request_id != "None" else ""]
    return " ".join(p for p in parts if p) or None

