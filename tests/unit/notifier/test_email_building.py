"""Building messages from specs, Message-IDs, and the file and fake mailers."""
from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from notifier.mail import (
    DeliveryOutcome,
    DeliveryResult,
    EmailAttachment,
    EmailMessageSpec,
    EmlFileMailer,
    FakeMailer,
    InvalidAddress,
    Mailer,
    SmtpMailer,
    SmtpSettings,
    build_email_message,
    calendar_invitation,
    format_sender,
    make_message_id,
    message_bytes,
)

SENDER = format_sender("noreply@innoeng.test", "中国创造学会创新工程学分会")
SUBJECT = "【创新工程微专业】已收到您的产业兼职教师申请意向表（编号 E-2025-000042）"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//innoeng//CN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:event-7@innoeng\r\nSUMMARY:岗前示范交流活动\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def a_spec(**overrides) -> EmailMessageSpec:
    values = dict(
        to=("张三 <zhang@example.cn>",),
        subject=SUBJECT,
        text="张三，您好：\n我们已收到您的申请。\n",
        html="<p>张三，您好：</p>",
        message_id=make_message_id("submission_receipt:42"),
    )
    values.update(overrides)
    return EmailMessageSpec(**values)


def parse(data: bytes):
    return message_from_bytes(data, policy=default_policy)


class TestMakeMessageId:
    def test_same_key_gives_same_id(self):
        assert make_message_id("reminder:batch-1:draft-9:T-3") == make_message_id("reminder:batch-1:draft-9:T-3")

    def test_different_keys_give_different_ids_even_when_they_sanitise_alike(self):
        assert make_message_id("a b") != make_message_id("a/b")
        assert make_message_id("提醒:1") != make_message_id("通知:1")

    def test_shape_is_a_valid_msg_id_with_a_readable_prefix(self):
        message_id = make_message_id("submission_receipt:42 张三", "innoeng.example.cn")
        assert message_id.startswith("<notification-submission_receipt-42.")
        assert message_id.endswith("@innoeng.example.cn>")
        assert message_id.isascii() and " " not in message_id
        # The stdlib parser accepts it as one msg-id.
        parsed = parse(f"Message-ID: {message_id}\r\n\r\n".encode())
        assert parsed["Message-ID"] == message_id

    def test_rejects_empty_key_and_bad_domain(self):
        with pytest.raises(ValueError):
            make_message_id("")
        with pytest.raises(ValueError):
            make_message_id("k", "bad domain")


class TestBuildEmailMessage:
    def test_alternative_plain_and_html_with_encoded_chinese_subject(self):
        spec = a_spec()
        date = datetime(2025, 8, 10, 6, 30, tzinfo=timezone.utc)

        data = message_bytes(build_email_message(spec, sender=SENDER, date=date))
        raw_headers = data.split(b"\r\n\r\n", 1)[0]
        parsed = parse(data)

        assert raw_headers.isascii(), "headers must be RFC 2047 encoded, not raw UTF-8"
        assert b"=?utf-8?" in raw_headers
        assert parsed["Subject"] == SUBJECT
        assert parsed.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
        assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == spec.text
        assert parsed.get_body(("html",)).get_content().strip() == spec.html
        assert parsed["Message-ID"] == spec.message_id
        assert parsed["From"].addresses[0].display_name == "中国创造学会创新工程学分会"
        assert parsed["To"].addresses[0].addr_spec == "zhang@example.cn"
        assert parsed["Date"].datetime == date
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert all(line.endswith(b"\r") or not line for line in data.split(b"\n")[:-1])

    def test_seven_bit_form_has_no_raw_utf8_anywhere(self):
        data = message_bytes(build_email_message(a_spec(), sender=SENDER, eight_bit=False))
        assert data.isascii()
        assert parse(data).get_body(("plain",)).get_content().startswith("张三，您好")

    def test_text_only_when_no_html(self):
        parsed = parse(message_bytes(build_email_message(a_spec(html=None), sender=SENDER)))
        assert parsed.get_content_type() == "text/plain"

    def test_attachments_make_it_mixed_with_the_calendar_method(self):
        spec = a_spec(
            attachments=(
                calendar_invitation(ICS, filename="workshop.ics"),
                EmailAttachment(filename="回执.pdf", content=b"%PDF-1.4 fake", mime_type="application/pdf"),
            )
        )
        parsed = parse(message_bytes(build_email_message(spec, sender=SENDER)))

        assert parsed.get_content_type() == "multipart/mixed"
        body, calendar, pdf = parsed.iter_parts()
        assert body.get_content_type() == "multipart/alternative"
        assert calendar.get_content_type() == "text/calendar"
        assert calendar.get_param("method") == "REQUEST"
        assert calendar.get_filename() == "workshop.ics"
        assert calendar.get_content().replace("\r\n", "\n") == ICS.replace("\r\n", "\n")
        assert pdf.get_filename() == "回执.pdf"
        assert pdf.get_content() == b"%PDF-1.4 fake"

    def test_reply_to_is_set_when_given(self):
        parsed = parse(message_bytes(build_email_message(a_spec(reply_to="staff@innoeng.test"), sender=SENDER)))
        assert parsed["Reply-To"] == "staff@innoeng.test"


class TestSpec:
    def test_a_single_string_recipient_is_one_recipient(self):
        assert a_spec(to="zhang@example.cn").to == ("zhang@example.cn",)

    def test_recipients_are_bare_and_deduplicated(self):
        spec = a_spec(to=("张三 <zhang@example.cn>", "zhang@example.cn", "li@example.cn"))
        assert spec.recipients() == ("zhang@example.cn", "li@example.cn")

    @pytest.mark.parametrize("bad", ["", "   ", "zhang", "zhang@", "@example.cn", "a b@example.cn", "x@y\r\nBcc: z@w.cn"])
    def test_invalid_addresses_are_refused(self, bad):
        with pytest.raises(InvalidAddress):
            a_spec(to=(bad,)).recipients()

    def test_no_recipient_is_invalid(self):
        with pytest.raises(InvalidAddress):
            a_spec(to=()).recipients()

    def test_for_recipients_changes_the_envelope_not_the_header(self):
        spec = a_spec(to=("a@example.cn", "b@example.cn")).for_recipients(["b@example.cn"])
        assert spec.recipients() == ("b@example.cn",)
        parsed = parse(message_bytes(build_email_message(spec, sender=SENDER)))
        assert [address.addr_spec for address in parsed["To"].addresses] == ["a@example.cn", "b@example.cn"]

    def test_message_id_must_be_angle_bracketed(self):
        with pytest.raises(ValueError):
            a_spec(message_id="notification-1@innoeng")

    def test_spec_is_frozen(self):
        with pytest.raises(AttributeError):
            a_spec().subject = "x"  # type: ignore[misc]


class TestEmlFileMailer:
    async def test_writes_a_parseable_file_named_from_the_message_id(self, tmp_path):
        mailer = EmlFileMailer(tmp_path / "outbox", sender=SENDER)
        spec = a_spec(attachments=(calendar_invitation(ICS),))

        result = await mailer.send(spec)

        assert result.outcome is DeliveryOutcome.SENT
        files = list((tmp_path / "outbox").iterdir())
        assert [file.name for file in files] == [mailer.path_for(spec).name]
        assert result.server_reply == str(files[0])
        name = files[0].name
        assert name.endswith(".eml") and all(ch.isalnum() or ch in "._-" for ch in name)
        parsed = parse(files[0].read_bytes())
        assert parsed["Subject"] == SUBJECT
        assert parsed["Message-ID"] == spec.message_id
        assert parsed.get_body(("plain",)).get_content().startswith("张三，您好")
        # Readable with a plain text viewer: the Chinese body is not base64.
        assert "我们已收到您的申请" in files[0].read_text("utf-8")

    async def test_sending_the_same_message_twice_overwrites(self, tmp_path):
        mailer = EmlFileMailer(tmp_path, sender=SENDER)
        await mailer.send(a_spec(text="第一版\n"))
        await mailer.send(a_spec(text="第二版\n"))

        (only,) = list(tmp_path.iterdir())
        assert "第二版" in only.read_text("utf-8")

    async def test_invalid_address_is_permanent_and_writes_nothing(self, tmp_path):
        result = await EmlFileMailer(tmp_path, sender=SENDER).send(a_spec(to=("nobody",)))
        assert result.outcome is DeliveryOutcome.PERMANENT
        assert list(tmp_path.iterdir()) == []


class TestFakeMailer:
    async def test_records_sends_and_answers_as_scripted(self):
        mailer = FakeMailer()
        mailer.script(DeliveryOutcome.TRANSIENT)

        first = await mailer.send(a_spec())
        second = await mailer.send(a_spec())

        assert first.outcome is DeliveryOutcome.TRANSIENT
        assert second.is_sent
        assert len(mailer.attempts) == 2 and len(mailer.delivered) == 1
        assert mailer.messages()[0]["Subject"] == SUBJECT

    async def test_scripted_result_is_returned_verbatim(self):
        mailer = FakeMailer()
        scripted = DeliveryResult(DeliveryOutcome.UNKNOWN, "timeout after DATA")
        mailer.script(scripted)
        assert await mailer.send(a_spec()) is scripted

    async def test_invalid_address_is_permanent_like_the_real_ones(self):
        assert (await FakeMailer().send(a_spec(to=("nobody",)))).outcome is DeliveryOutcome.PERMANENT


def test_every_mailer_satisfies_the_protocol(tmp_path):
    settings = SmtpSettings(host="127.0.0.1", from_address="noreply@innoeng.test")
    for mailer in (SmtpMailer(settings), EmlFileMailer(tmp_path, sender=SENDER), FakeMailer()):
        assert isinstance(mailer, Mailer)


def test_settings_refuse_both_tls_modes():
    with pytest.raises(ValueError):
        SmtpSettings(host="h", from_address="a@b.cn", use_tls=True, start_tls=True)
