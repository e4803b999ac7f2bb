"""The Alibaba Cloud adapter (official async SDK) against a local stand-in of Dysmsapi's HTTP endpoint.

The stand-in answers as Dysmsapi does: HTTP 200 with Code "OK" or a business refusal (isv.*), and
HTTP 4xx with an error document for what is wrong with our account or request. What it answers is
chosen by the number sent to; the request's ACS3-HMAC-SHA256 signature is checked against the
secret the stand-in holds for the key, as Dysmsapi does.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import uuid
from urllib.parse import quote

import pytest
from aiohttp import web

from core.ports.sms import SmsSender, SmsStatus
from core.settings import Settings
from notifier.sms import build_sms_sender
from notifier.sms.aliyun import AliyunSmsSender

OK, THROTTLED, ILLEGAL, SERVER_ERROR, SLOW, USER_THROTTLING = (
    "13800000001", "13800000002", "13800000003", "13800000004", "13800000005", "13800000006")


SECRETS = {"LTAI5tTestKeyId": "test-secret"}


def _signature(request: web.Request, body: bytes, signed_headers: list[str], secret: str) -> str:
    """ACS3-HMAC-SHA256 (Alibaba Cloud's V3 request signature), computed as the server does."""
    def enc(value: str) -> str:
        return quote(value, safe="-_.~")

    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(request.query.items()))
    headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed_headers)
    canonical = "\n".join([request.method, request.path, query, headers, ";".join(signed_headers),
                           hashlib.sha256(body).hexdigest()])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class Dysmsapi:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        params = {**dict(request.query), "Action": request.headers.get("x-acs-action"),
                  "Version": request.headers.get("x-acs-version")}
        self.requests.append({"params": params, "headers": dict(request.headers), "method": request.method})
        request_id = str(uuid.uuid4()).upper()
        scheme, _, fields = request.headers.get("Authorization", "").partition(" ")
        auth = dict(part.split("=", 1) for part in fields.split(",") if "=" in part)
        secret = SECRETS.get(auth.get("Credential", ""))
        if scheme != "ACS3-HMAC-SHA256" or secret is None:
            return _error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", request_id)
        if not hmac.compare_digest(auth.get("Signature", ""),
                                   _signature(request, body, auth.get("SignedHeaders", "").split(";"), secret)):
            return _error(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.",
                          request_id)
        phone = params.get("PhoneNumbers")
        if phone == SLOW:
            await asyncio.sleep(2)
        if phone == SERVER_ERROR:
            return _error(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.",
                          request_id)
        if phone == USER_THROTTLING:
            return _error(400, "Throttling.User", "Request was denied due to user flow control.", request_id)
        if phone == THROTTLED:
            return web.json_response({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5",
                                      "RequestId": request_id})
        if phone == ILLEGAL:
            return web.json_response({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": request_id})
        return web.json_response({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": request_id})


def _error(status: int, code: str, message: str, request_id: str) -> web.Response:
    return web.json_response({"Code": code, "Message": message, "RequestId": request_id, "HostId": "dysmsapi.aliyuncs.com"},
                             status=status)


@pytest.fixture
async def dysmsapi():
    api = Dysmsapi()
    app = web.Application()
    app.router.add_route("*", "/", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    api.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield api
    finally:
        await runner.cleanup()


def sender(url: str, *, key: str = "LTAI5tTestKeyId", secret: str = "test-secret",
           timeout_s: float = 1.0) -> AliyunSmsSender:
    return AliyunSmsSender(access_key_id=key, access_key_secret=secret, sign_name="创新工程学分会",
                           endpoint=url, timeout_s=timeout_s)


async def test_accepted_with_what_we_sent(dysmsapi):
    sms = sender(dysmsapi.url)
    assert isinstance(sms, SmsSender)

    result = await sms.send(OK, "SMS_465930001", {"code": "246810"})

    assert result.status is SmsStatus.ACCEPTED and result.provider_code == "OK"
    assert "BizId=900619746936498440^0" in result.provider_reply and "RequestId=" in result.provider_reply
    (request,) = dysmsapi.requests
    params = request["params"]
    assert request["method"] == "POST" and params["Action"] == "SendSms" and params["Version"] == "2017-05-25"
    assert (params["PhoneNumbers"], params["SignName"], params["TemplateCode"]) == (OK, "创新工程学分会", "SMS_465930001")
    assert json.loads(params["TemplateParam"]) == {"code": "246810"}
    # Signed with our key (the secret itself never travels).
    assert "Credential=LTAI5tTestKeyId" in request["headers"]["Authorization"]
    assert "test-secret" not in json.dumps(request)


@pytest.mark.parametrize("phone, status, code", [
    (THROTTLED, SmsStatus.TRANSIENT, "isv.BUSINESS_LIMIT_CONTROL"),
    (USER_THROTTLING, SmsStatus.TRANSIENT, "Throttling.User"),
    (SERVER_ERROR, SmsStatus.TRANSIENT, "ServiceUnavailable"),
    (ILLEGAL, SmsStatus.PERMANENT, "isv.MOBILE_NUMBER_ILLEGAL"),
])
async def test_refusals_by_code(dysmsapi, phone, status, code):
    result = await sender(dysmsapi.url).send(phone, "SMS_1", {"code": "1"})
    assert (result.status, result.provider_code) == (status, code)
    assert code in result.reason and "RequestId=" in (result.provider_reply or "")


@pytest.mark.parametrize("key, secret, code", [
    ("LTAI5tUnknownKey", "test-secret", "InvalidAccessKeyId.NotFound"),
    ("LTAI5tTestKeyId", "not-the-secret", "SignatureDoesNotMatch"),
])
async def test_an_account_problem_is_an_auth_failure(dysmsapi, key, secret, code):
    result = await sender(dysmsapi.url, key=key, secret=secret).send(OK, "SMS_1", {"code": "1"})
    assert (result.status, result.provider_code) == (SmsStatus.AUTH, code)
    assert code in result.reason


async def test_no_answer_in_time_may_have_been_sent(dysmsapi):
    result = await sender(dysmsapi.url, timeout_s=0.5).send(SLOW, "SMS_1", {"code": "1"})
    assert result.status is SmsStatus.UNKNOWN and len(dysmsapi.requests) == 1


async def test_an_endpoint_that_refuses_connections_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await sender(f"http://127.0.0.1:{port}").send(OK, "SMS_1", {"code": "1"})
    assert result.status is SmsStatus.TRANSIENT and "无法连接" in result.reason


async def test_settings_select_the_adapter(dysmsapi, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, sms_provider="aliyun",
                        aliyun_sms_access_key_id="LTAI5tTestKeyId", aliyun_sms_access_key_secret="test-secret",
                        aliyun_sms_sign_name="创新工程学分会", aliyun_sms_endpoint=dysmsapi.url)
    sms = build_sms_sender(settings)
    assert isinstance(sms, AliyunSmsSender)
    assert (await sms.send(OK, "SMS_1", {"code": "1"})).accepted
    with pytest.raises(ValueError, match="ALIYUN_SMS_SIGN_NAME"):
        build_sms_sender(Settings(_env_file=None, data_dir=tmp_path, sms_provider="aliyun"))
