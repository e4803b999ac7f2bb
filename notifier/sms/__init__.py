"""The SMS channel of the outbox: the port (core.ports.sms), a fake, and Alibaba Cloud's Dysmsapi."""
from notifier.sms.channel import SmsChannel, SmsMessage
from notifier.sms.fake import FakeSmsSender, SentSms
from notifier.sms.limits import PerNumberLimits

__all__ = ["FakeSmsSender", "PerNumberLimits", "SentSms", "SmsChannel", "SmsMessage", "build_sms_sender"]


def build_sms_sender(settings):
    """The sender SMS_PROVIDER names: `aliyun` (Dysmsapi; needs its key, secret and sign name) or
    `fake` (the default when no provider is configured: records, and writes DATA_DIR/outbox/sms.jsonl)."""
    if settings.sms_provider == "aliyun":
        from notifier.sms.aliyun import AliyunSmsSender

        return AliyunSmsSender.from_settings(settings)
    return FakeSmsSender(log_path=settings.data_dir / "outbox" / "sms.jsonl")
