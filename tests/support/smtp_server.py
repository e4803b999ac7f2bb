"""An in-process SMTP server (aiosmtpd in a thread) that misbehaves on request, for notifier tests."""
from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as AiosmtpdSMTP
from tests.support.net import free_port

__all__ = [
    "free_port","ScriptedHandler", "ScriptedSMTP", "ScriptedController", "free_port", "scripted_smtp_server"]


class ScriptedHandler:
    """Accepts mail unless told otherwise; remembers what it saw."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.ehlo_count = 0
        self.sessions: list[AiosmtpdSMTP] = []
        self.mail_answers: deque[str] = deque()
        self.rcpt_answers: dict[str, deque[str]] = defaultdict(deque)
        self.rcpt_delay = 0.0
        self.data_delay = 0.0
        self.data_answer: str | None = None
        self.data_command: str | None = None  # "drop" before 354, "drop_mid_content" after it
        self.drop_in_data_handler = False
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtplib says EHLO once per connection, so this counts connections.
        self.ehlo_count += 1
        self.sessions.append(server)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_answers:
            return self.mail_answers.popleft()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        answers = self.rcpt_answers.get(address)
        if answers:
            return answers.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_in_data_handler:
            server.transport.close()
            return "250 never heard"
        if self.data_answer:
            return self.data_answer
        self.received.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "content": envelope.original_content,
                "mail_options": list(envelope.mail_options),
                "peer": session.peer,
            }
        )
        if self.data_delay:
            # Queued already, slow to say so: the case that makes "unknown" necessary.
            await asyncio.sleep(self.data_delay)
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"


class ScriptedSMTP(AiosmtpdSMTP):
    async def smtp_DATA(self, arg):
        mode = self.event_handler.data_command
        if mode == "drop":
            self.transport.close()
            return
        if mode == "drop_mid_content":
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class ScriptedController(Controller):
    def factory(self):
        return ScriptedSMTP(self.handler, **self.SMTP_kwargs)


@contextmanager
def scripted_smtp_server(**smtp_kwargs) -> Iterator[ScriptedController]:
    """A started server; `.handler_state` is its ScriptedHandler."""
    handler = ScriptedHandler()
    controller = ScriptedController(handler, hostname="127.0.0.1", port=free_port(), **smtp_kwargs)
    controller.start()
    controller.handler_state = handler
    try:
        yield controller
    finally:
        controller.stop()
