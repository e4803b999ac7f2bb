"""The SMS template registry, phone numbers, per-number limits and the kind -> priority mapping."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.domain.outbox import BULK, URGENT, outbox_priority
from core.ports.sms import SMS_TEMPLATES, SmsResult, SmsSender, SmsStatus, SmsTemplateError, normalize_mobile, sms_params
from core.settings import Settings
from notifier.outcome import Outcome
from notifier.sms import FakeSmsSender, PerNumberLimits, SmsChannel
from notifier.sms.aliyun import classify
from notifier.sms.channel import to_outcome

T0 = datetime(2025, 7, 1, 2, 0, tzinfo=timezone.utc)


def test_every_template_has_its_setting_and_named_variables():
    assert set(SMS_TEMPLATES) == {"signin_code", "match_proposal_waiting", "match_deadline_tomorrow", "workshop_tomorrow"}
    assert SMS_TEMPLATES["signin_code"].params == ("code",)
    assert SMS_TEMPLATES["workshop_tomorrow"].params == ("title", "link")
    for template in SMS_TEMPLATES.values():
        assert template.setting in Settings.model_fields, template.setting


def test_params_come_from_the_payload_as_strings_and_nothing_else():
    assert sms_params("signin_code", {"code": 123456, "other": "x"}) == {"code": "123456"}
    assert sms_params("workshop_tomorrow", {"title": "岗前示范交流活动", "link": "https://x.cn/e/1"}) == {
        "title": "岗前示范交流活动", "link": "https://x.cn/e/1"}
    with pytest.raises(SmsTemplateError, match="link"):
        sms_params("workshop_tomorrow", {"title": "t"})
    with pytest.raises(SmsTemplateError, match="review_approved"):
        sms_params("review_approved", {})


@pytest.mark.parametrize("raw, expected", [
    ("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("008613800138000", "13800138000"),
    ("8613800138000", "13800138000"), ("12800138000", None), ("1380013800", None), ("", None), (None, None),
])
def test_mobiles_are_eleven_mainland_digits(raw, expected):
    assert normalize_mobile(raw) == expected


def test_a_sign_in_code_outranks_everything_and_unknown_kinds_are_bulk():
    assert outbox_priority("signin_code") == URGENT
    assert outbox_priority("review_approved") == BULK == outbox_priority(None)
    assert all(outbox_priority(kind) < URGENT for kind in ("staff_digest", "workshop_reminder", "channel_paused"))


def test_the_fake_satisfies_the_port_and_fails_on_request():
    fake = FakeSmsSender()
    assert isinstance(fake, SmsSender)
    fake.fail_next(SmsStatus.TRANSIENT, "busy", code="isv.BUSINESS_LIMIT_CONTROL")

    import asyncio

    first = asyncio.run(fake.send("13800138000", "SMS_1", {"code": "1"}))
    second = asyncio.run(fake.send("13800138000", "SMS_1", {"code": "2"}))
    assert first.status is SmsStatus.TRANSIENT and second.accepted
    assert [s.params["code"] for s in fake.calls] == ["1", "2"] and [s.params["code"] for s in fake.sent] == ["2"]


def test_without_a_provider_the_fake_is_used_and_needs_no_template_codes(tmp_path):
    from notifier.sms import build_sms_sender

    settings = Settings(_env_file=None, data_dir=tmp_path)
    sender = build_sms_sender(settings)
    assert isinstance(sender, FakeSmsSender)
    message = SmsChannel.from_settings(settings, sender).compose(kind="signin_code", address="+8613800138000",
                                                                payload={"code": "246810"})
    assert (message.phone, message.template_code, message.params) == ("13800138000", "signin_code", {"code": "246810"})


def test_with_aliyun_a_missing_template_code_is_named(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, sms_provider="aliyun", aliyun_sms_access_key_id="id",
                        aliyun_sms_access_key_secret="secret", aliyun_sms_sign_name="签名",
                        aliyun_sms_template_signin_code="SMS_100")
    channel = SmsChannel.from_settings(settings, FakeSmsSender())
    assert channel.compose(kind="signin_code", address="13800138000", payload={"code": "1"}).template_code == "SMS_100"
    with pytest.raises(SmsTemplateError, match="ALIYUN_SMS_TEMPLATE_MATCH_PROPOSAL_WAITING"):
        channel.compose(kind="match_proposal_waiting", address="13800138000", payload={"link": "https://x"})
    assert repr(settings.aliyun_sms_access_key_secret) != "secret"


def test_per_number_limits_one_a_minute_five_an_hour():
    limits = PerNumberLimits()
    assert limits.wait("13800138000", now=T0, on_record={}) == timedelta(0)
    limits.reserve("13800138000", 1, now=T0)
    assert limits.wait("13800138000", now=T0 + timedelta(seconds=20), on_record={}) == timedelta(seconds=40)
    assert limits.wait("13900139000", now=T0, on_record={}) == timedelta(0), "another number is not held up"
    # Five sends in the past hour (on record, from any process): the sixth waits for the oldest to leave.
    on_record = {i: T0 + timedelta(minutes=10 * i) for i in range(5)}
    now = T0 + timedelta(minutes=45)
    assert limits.wait("13700137000", now=now, on_record=on_record) == timedelta(minutes=15)
    # A row both reserved here and on record counts once.
    assert limits.wait("13800138000", now=T0 + timedelta(minutes=2), on_record={1: T0}) == timedelta(0)


@pytest.mark.parametrize("code, status", [
    ("OK", SmsStatus.ACCEPTED),
    ("isv.BUSINESS_LIMIT_CONTROL", SmsStatus.TRANSIENT),
    ("Throttling.User", SmsStatus.TRANSIENT),
    ("isv.MOBILE_NUMBER_ILLEGAL", SmsStatus.PERMANENT),
    ("InvalidAccessKeyId.NotFound", SmsStatus.AUTH),
    ("SignatureDoesNotMatch", SmsStatus.AUTH),
    ("isv.AMOUNT_NOT_ENOUGH", SmsStatus.AUTH),
])
def test_aliyun_codes(code, status):
    assert classify(code) is status


def test_results_become_worker_outcomes():
    assert to_outcome(SmsResult(SmsStatus.ACCEPTED, provider_reply="BizId=1")).outcome is Outcome.SENT
    assert to_outcome(SmsResult(SmsStatus.TRANSIENT, "限流", provider_code="isv.BUSINESS_LIMIT_CONTROL")).reason \
        == "限流（isv.BUSINESS_LIMIT_CONTROL）"
    assert to_outcome(SmsResult(SmsStatus.PERMANENT, "号码错误")).outcome is Outcome.PERMANENT
    assert to_outcome(SmsResult(SmsStatus.AUTH, "密钥无效")).outcome is Outcome.CHANNEL_DOWN
    assert to_outcome(SmsResult(SmsStatus.UNKNOWN, "超时")).outcome is Outcome.UNKNOWN
