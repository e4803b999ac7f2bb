"""SmtpMailer against a real SMTP server (aiosmtpd in a thread) that misbehaves on request."""
from __future__ import annotations

import asyncio
import time
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr

from tests.support.smtp_server import ScriptedController, ScriptedHandler, free_port, scripted_smtp_server
from notifier.mail import (
    DeliveryOutcome,
    EmailMessageSpec,
    SmtpMailer,
    SmtpSettings,
    make_message_id,
)

SUBJECT = "【创新工程微专业】已收到您的产业兼职教师申请意向表（编号 E-2025-000042）"
CLIENT_TIMEOUT = 0.5
SLOWER_THAN_CLIENT = 1.5


@pytest.fixture
def server():
    with scripted_smtp_server() as controller:
        yield controller


def settings_for(controller: ScriptedController, **overrides) -> SmtpSettings:
    values = dict(
        host="127.0.0.1",
        port=controller.port,
        from_address="noreply@innoeng.test",
        from_name="中国创造学会创新工程学分会",
        start_tls=False,
        timeout=CLIENT_TIMEOUT,
        local_hostname="worker.innoeng.test",
    )
    values.update(overrides)
    return SmtpSettings(**values)


def a_message(*to: str, key: str = "submission_receipt:42") -> EmailMessageSpec:
    return EmailMessageSpec(
        to=to or ("张三 <zhang@example.cn>",),
        subject=SUBJECT,
        text="张三，您好：\n我们已收到您提交的《产业兼职教师申请意向表》。\n.以点开头的一行\n",
        html="<p>张三，您好：</p><p>我们已收到您提交的《产业兼职教师申请意向表》。</p>",
        message_id=make_message_id(key),
    )


@pytest.fixture
async def mailer(server):
    mailer = SmtpMailer(settings_for(server))
    yield mailer
    await mailer.aclose()


async def test_happy_path_delivers_multipart_alternative_with_chinese_subject(server, mailer):
    spec = a_message()

    result = await mailer.send(spec)

    assert result.outcome is DeliveryOutcome.SENT, result.reason
    assert result.smtp_code == 250
    assert result.server_reply == "250 2.0.0 Ok: queued as Q1"
    assert result.accepted == ("zhang@example.cn",)
    assert result.message_id == spec.message_id
    (received,) = server.handler_state.received
    assert received["mail_from"] == "noreply@innoeng.test"
    assert received["rcpt_tos"] == ["zhang@example.cn"]
    assert "BODY=8BITMIME" in received["mail_options"]

    parsed = message_from_bytes(received["content"], policy=default_policy)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Subject"] == SUBJECT
    assert "=?utf-8?" in received["content"].decode("ascii", "replace").split("Subject:", 1)[1].split("\n", 1)[0]
    assert parsed["Message-ID"] == spec.message_id
    assert parsed["From"].addresses[0].display_name == "中国创造学会创新工程学分会"
    assert parsed["From"].addresses[0].addr_spec == "noreply@innoeng.test"
    assert parsed["To"].addresses[0].display_name == "张三"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain.get_content().replace("\r\n", "\n") == spec.text
    # The dot-stuffed line came back intact: the server undid our doubling.
    assert ".以点开头的一行" in plain.get_content()
    assert "《产业兼职教师申请意向表》" in html.get_content()


async def test_connection_is_reused_across_sends(server, mailer):
    for number in range(5):
        result = await mailer.send(a_message(key=f"receipt:{number}"))
        assert result.is_sent, result.reason

    handler = server.handler_state
    assert len(handler.received) == 5
    assert handler.ehlo_count == 1
    assert mailer.connections_opened == 1
    assert len({message["peer"] for message in handler.received}) == 1


async def test_reconnects_after_server_closes_an_idle_connection(server, mailer):
    assert (await mailer.send(a_message(key="first"))).is_sent
    handler = server.handler_state
    server.loop.call_soon_threadsafe(handler.sessions[-1].transport.close)
    await asyncio.sleep(0.2)

    result = await mailer.send(a_message(key="second"))

    assert result.is_sent, result.reason
    assert handler.ehlo_count == 2
    assert mailer.connections_opened == 2
    assert len({message["peer"] for message in handler.received}) == 2


async def test_reconnects_when_relay_answers_421_on_a_reused_connection(server, mailer):
    assert (await mailer.send(a_message(key="first"))).is_sent
    server.handler_state.mail_answers.append("421 4.4.2 idle too long, closing")

    result = await mailer.send(a_message(key="second"))

    assert result.is_sent, result.reason
    assert mailer.connections_opened == 2
    assert [len(server.handler_state.received)] == [2]


async def test_temporary_rcpt_refusal_is_transient_then_succeeds_on_retry(server, mailer):
    server.handler_state.rcpt_answers["zhang@example.cn"].append("450 4.2.1 Mailbox busy, try later")
    spec = a_message()

    first = await mailer.send(spec)

    assert first.outcome is DeliveryOutcome.TRANSIENT
    assert first.smtp_code == 450
    assert "450" in first.reason and "Mailbox busy" in first.reason
    assert first.retry_recipients == ("zhang@example.cn",)
    assert server.handler_state.received == []

    second = await mailer.send(spec)

    assert second.is_sent, second.reason
    assert len(server.handler_state.received) == 1
    # The failed envelope was reset, not abandoned with the connection.
    assert mailer.connections_opened == 1


async def test_permanent_rcpt_refusal_is_permanent(server, mailer):
    server.handler_state.rcpt_answers["zhang@example.cn"].append("550 5.1.1 User unknown")

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.PERMANENT
    assert result.smtp_code == 550
    assert "550 5.1.1 User unknown" in result.reason
    assert result.refused[0].address == "zhang@example.cn"


async def test_5xx_after_data_is_permanent_and_connection_stays_usable(server, mailer):
    server.handler_state.data_answer = "554 5.6.0 Message content rejected"

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.PERMANENT
    assert result.smtp_code == 554
    assert "554" in result.reason and "Message content rejected" in result.reason

    server.handler_state.data_answer = None
    assert (await mailer.send(a_message(key="next"))).is_sent
    assert mailer.connections_opened == 1


async def test_4xx_after_data_is_transient(server, mailer):
    server.handler_state.data_answer = "451 4.3.0 Temporary local problem"

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.TRANSIENT
    assert result.smtp_code == 451


async def test_partial_refusal_reports_each_refused_recipient(server, mailer):
    server.handler_state.rcpt_answers["nobody@example.cn"].append("550 5.1.1 No such user")
    server.handler_state.rcpt_answers["busy@example.cn"].append("452 4.2.2 Mailbox full")

    result = await mailer.send(a_message("staff@example.cn", "nobody@example.cn", "busy@example.cn"))

    assert result.outcome is DeliveryOutcome.SENT
    assert result.is_partial
    assert result.accepted == ("staff@example.cn",)
    refused = {refusal.address: refusal for refusal in result.refused}
    assert refused["nobody@example.cn"].code == 550
    assert refused["nobody@example.cn"].message == "5.1.1 No such user"
    assert refused["busy@example.cn"].code == 452
    assert result.retry_recipients == ("busy@example.cn",)
    assert "nobody@example.cn" in result.reason and "550" in result.reason
    (received,) = server.handler_state.received
    assert received["rcpt_tos"] == ["staff@example.cn"]

    # Retrying only the temporarily refused recipient reaches only them, with the To header unchanged.
    retry = a_message("staff@example.cn", "nobody@example.cn", "busy@example.cn").for_recipients(result.retry_recipients)
    assert (await mailer.send(retry)).is_sent
    second = server.handler_state.received[1]
    assert second["rcpt_tos"] == ["busy@example.cn"]
    assert "staff@example.cn" in message_from_bytes(second["content"], policy=default_policy)["To"]


async def test_connection_dropped_at_data_command_is_transient(server, mailer):
    server.handler_state.data_command = "drop"

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.TRANSIENT, result.reason
    assert server.handler_state.received == []

    server.handler_state.data_command = None
    assert (await mailer.send(a_message())).is_sent
    assert mailer.connections_opened == 2


async def test_connection_dropped_mid_data_is_unknown(server, mailer):
    # Our whole message, terminator included, was already on its way: from this side a
    # server that dropped mid-transfer looks exactly like one that accepted and then dropped.
    server.handler_state.data_command = "drop_mid_content"

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.UNKNOWN, result.reason
    assert "未收到服务器确认" in result.reason


async def test_connection_dropped_after_message_received_is_unknown(server, mailer):
    server.handler_state.drop_in_data_handler = True

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.UNKNOWN, result.reason


async def test_slow_server_before_data_is_transient(server, mailer):
    server.handler_state.rcpt_delay = SLOWER_THAN_CLIENT

    started = time.monotonic()
    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.TRANSIENT, result.reason
    assert "超时" in result.reason and "RCPT" in result.reason
    assert time.monotonic() - started < SLOWER_THAN_CLIENT
    await asyncio.sleep(SLOWER_THAN_CLIENT)
    assert server.handler_state.received == []


async def test_slow_server_after_data_is_unknown_and_the_mail_did_arrive(server, mailer):
    server.handler_state.data_delay = SLOWER_THAN_CLIENT

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.UNKNOWN, result.reason
    # Why "unknown" must not be retried blindly: the server had queued it.
    assert len(server.handler_state.received) == 1

    server.handler_state.data_delay = 0
    assert (await mailer.send(a_message(key="next"))).is_sent
    assert mailer.connections_opened == 2


async def test_connection_refused_is_transient():
    port = free_port()  # nothing listens there
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, from_address="noreply@innoeng.test", timeout=1))

    result = await mailer.send(a_message())

    assert result.outcome is DeliveryOutcome.TRANSIENT
    assert f"127.0.0.1:{port}" in result.reason
    await mailer.aclose()


async def test_invalid_address_is_permanent_without_contacting_the_server(server, mailer):
    result = await mailer.send(a_message("not-an-address"))

    assert result.outcome is DeliveryOutcome.PERMANENT
    assert "not-an-address" in result.reason
    assert server.handler_state.ehlo_count == 0


async def test_concurrent_sends_share_the_connection_safely(server, mailer):
    results = await asyncio.gather(*(mailer.send(a_message(key=f"c{n}")) for n in range(10)))

    assert all(result.is_sent for result in results)
    ids = {message_from_bytes(m["content"], policy=default_policy)["Message-ID"] for m in server.handler_state.received}
    assert ids == {make_message_id(f"c{n}") for n in range(10)}
    assert mailer.connections_opened == 1


async def test_login_with_secret_password():
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    handler = ScriptedHandler()
    controller = ScriptedController(
        handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        settings = settings_for(controller, username="relay-user", password=SecretStr("s3cret"))
        assert "s3cret" not in repr(settings)
        mailer = SmtpMailer(settings)
        assert (await mailer.send(a_message())).is_sent
        await mailer.aclose()

        wrong = SmtpMailer(settings_for(controller, username="relay-user", password="wrong"))
        result = await wrong.send(a_message())
        assert result.outcome is DeliveryOutcome.TRANSIENT
        assert "535" in result.reason
        await wrong.aclose()
    finally:
        controller.stop()
    assert logins[0] == (b"relay-user", b"s3cret")


async def test_cancelled_send_does_not_poison_the_connection(server, mailer):
    server.handler_state.data_delay = 0.3
    task = asyncio.create_task(mailer.send(a_message(key="cancelled")))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    server.handler_state.data_delay = 0
    result = await mailer.send(a_message(key="after"))

    assert result.is_sent, result.reason
    assert mailer.connections_opened == 2
