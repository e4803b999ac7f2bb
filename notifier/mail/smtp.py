"""Sending through an SMTP relay on one persistent connection per mailer."""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Protocol

import aiosmtplib
from aiosmtplib import (
    SMTPException,
    SMTPHeloError,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from .delivery import DeliveryOutcome, DeliveryResult, RecipientRefusal
from .message import EmailMessageSpec, InvalidAddress, build_email_message, format_sender, message_bytes

__all__ = ["SmtpMailer", "SmtpSettings"]


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    from_address: str
    port: int = 587
    from_name: str | None = None
    username: str | None = None
    # pydantic.SecretStr or a plain str; kept out of repr so it never reaches a log.
    password: _Secret | str | None = field(default=None, repr=False)
    use_tls: bool = False  # implicit TLS from the first byte (usually port 465)
    start_tls: bool | None = None  # None: upgrade if the server offers STARTTLS
    timeout: float = 30.0
    validate_certs: bool = True
    # Set it where the FQDN lookup is slow or wrong; sent in EHLO.
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.use_tls and self.start_tls:
            raise ValueError("use_tls (implicit TLS) and start_tls (STARTTLS) exclude each other")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    def password_value(self) -> str | None:
        if self.password is None or isinstance(self.password, str):
            return self.password
        return self.password.get_secret_value()


class _Phase:
    """How far the current transaction got; decides what a lost connection means."""

    CONNECT = "连接"
    MAIL = "MAIL FROM"
    RCPT = "RCPT TO"
    DATA = "DATA"
    CONTENT = "发送邮件内容"
    # The terminating "." is on its way: the server may accept without us hearing it.
    AWAITING_ACCEPTANCE = "等待服务器确认"


class _ConnectionFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmtpMailer:
    """One persistent SMTP connection, opened on first use and reopened after failures.

    Sends are serialised on the connection; run one mailer per concurrent sender
    (e.g. per worker task) to send in parallel.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._from_header = format_sender(settings.from_address, settings.from_name)
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        # For health reporting and tests: a steadily rising number means the relay keeps dropping us.
        self.connections_opened = 0

    @property
    def settings(self) -> SmtpSettings:
        return self._settings

    async def send(self, spec: EmailMessageSpec) -> DeliveryResult:
        try:
            recipients = spec.recipients()
        except InvalidAddress as exc:
            return DeliveryResult(DeliveryOutcome.PERMANENT, str(exc), message_id=spec.message_id)

        async with self._lock:
            reusing = self._is_connected()
            result, stale = await self._attempt(spec, recipients)
            if stale and reusing:
                # An idle connection the relay had quietly closed: nothing was accepted, so
                # one fresh connection is the right answer, not a retry hours later.
                result, _ = await self._attempt(spec, recipients)
            return result

    async def aclose(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (SMTPException, OSError):
                    client.close()

    async def __aenter__(self) -> SmtpMailer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- connection ---------------------------------------------------------

    def _is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def _connected_client(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        self._drop_connection()
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password_value(),
            use_tls=settings.use_tls,
            start_tls=settings.start_tls,
            timeout=settings.timeout,
            validate_certs=settings.validate_certs,
            local_hostname=settings.local_hostname,
        )
        where = f"{settings.host}:{settings.port}"
        try:
            await client.connect()
            if client.last_ehlo_response is None and client.last_helo_response is None:
                # Extensions (SIZE, 8BITMIME, SMTPUTF8) must be known before building the envelope.
                try:
                    await client.ehlo()
                except SMTPHeloError:
                    await client.helo()
        except SMTPResponseException as exc:
            client.close()
            # Greeting, EHLO, STARTTLS or AUTH refused: about our setup, not this message,
            # so it stays transient and the worker's attempt limit decides when to give up.
            raise _ConnectionFailed(f"无法连接邮件服务器 {where}：SMTP {exc.code} {exc.message}") from exc
        except (SMTPException, OSError) as exc:
            client.close()
            raise _ConnectionFailed(f"无法连接邮件服务器 {where}：{_describe(exc)}") from exc
        self._client = client
        self.connections_opened += 1
        return client

    def _drop_connection(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _reset_envelope(self, client: aiosmtplib.SMTP) -> None:
        """Clear a half-built envelope so the next send on this connection starts clean."""
        if not client.is_connected:
            self._drop_connection()
            return
        try:
            await client.rset()
        except (SMTPException, OSError):
            self._drop_connection()

    # -- one transaction ----------------------------------------------------

    async def _attempt(self, spec: EmailMessageSpec, recipients: tuple[str, ...]) -> tuple[DeliveryResult, bool]:
        """Returns the result and whether it failed on a dead connection before anything was sent."""
        message_id = spec.message_id

        def result(outcome: DeliveryOutcome, reason: str, **extra: object) -> DeliveryResult:
            return DeliveryResult(outcome, reason, message_id=message_id, **extra)  # type: ignore[arg-type]

        phase = _Phase.CONNECT
        refused: list[RecipientRefusal] = []
        accepted: list[str] = []
        try:
            client = await self._connected_client()

            phase = _Phase.MAIL
            eight_bit = client.supports_extension("8bitmime")
            payload = _wire_payload(
                message_bytes(build_email_message(spec, sender=self._from_header, eight_bit=eight_bit))
            )
            mail_options, encoding = self._mail_options(client, recipients, payload)
            if eight_bit:
                mail_options.append("BODY=8BITMIME")
            if encoding is None:
                return result(DeliveryOutcome.PERMANENT, "收件人地址含非 ASCII 字符，但邮件服务器不支持 SMTPUTF8"), False
            await client.mail(self._settings.from_address, options=mail_options, encoding=encoding)

            phase = _Phase.RCPT
            for address in recipients:
                try:
                    await client.rcpt(address, encoding=encoding)
                except SMTPRecipientRefused as exc:
                    if exc.code == 421:  # the server is closing, not judging this address
                        raise
                    refused.append(RecipientRefusal(address, exc.code, exc.message))
                else:
                    accepted.append(address)
            if not accepted:
                await self._reset_envelope(client)
                any_temporary = any(refusal.is_transient for refusal in refused)
                return result(
                    DeliveryOutcome.TRANSIENT if any_temporary else DeliveryOutcome.PERMANENT,
                    "所有收件人均被拒绝：" + "；".join(refusal.describe() for refusal in refused),
                    smtp_code=refused[0].code,
                    refused=tuple(refused),
                ), False

            phase = _Phase.DATA
            reply = await client.execute_command(b"DATA")
            if reply.code != 354:
                raise SMTPResponseException(reply.code, reply.message)

            # aiosmtplib's data() hides whether a failure came before or after the content
            # was written, and that difference is "retry" versus "maybe delivered" here.
            phase = _Phase.CONTENT
            protocol = client.protocol
            if protocol is None:
                raise SMTPServerDisconnected("Connection lost")
            protocol.write(payload)
            phase = _Phase.AWAITING_ACCEPTANCE
            reply = await protocol.read_response(timeout=self._settings.timeout)
            if reply.code != 250:
                raise SMTPResponseException(reply.code, reply.message)
        except _ConnectionFailed as exc:
            return result(DeliveryOutcome.TRANSIENT, exc.reason), False
        except (SMTPTimeoutError, TimeoutError, SMTPServerDisconnected, OSError) as exc:
            self._drop_connection()
            if phase == _Phase.AWAITING_ACCEPTANCE:
                return result(
                    DeliveryOutcome.UNKNOWN,
                    f"邮件内容已发出，但未收到服务器确认（{_describe(exc)}）：对方可能已收到，请核实后再决定是否重发",
                ), False
            stale = phase == _Phase.MAIL and isinstance(exc, (SMTPServerDisconnected, ConnectionError))
            return result(
                DeliveryOutcome.TRANSIENT,
                f"{phase} 阶段{_describe(exc)}，邮件内容未发出，可稍后重试",
            ), stale
        except SMTPResponseException as exc:
            if exc.code == 421 or not client.is_connected:
                self._drop_connection()
                stale = phase == _Phase.MAIL
            else:
                await self._reset_envelope(client)
                stale = False
            temporary = 400 <= exc.code < 500
            what = {
                _Phase.MAIL: "邮件服务器拒绝发件人",
                _Phase.RCPT: "邮件服务器拒绝收件人",
                _Phase.DATA: "邮件服务器拒绝开始接收内容",
                _Phase.AWAITING_ACCEPTANCE: "邮件服务器拒收此邮件",
            }.get(phase, "邮件服务器返回错误")
            return result(
                DeliveryOutcome.TRANSIENT if temporary else DeliveryOutcome.PERMANENT,
                f"{what}（SMTP {exc.code} {exc.message}）" + ("，可稍后重试" if temporary else ""),
                smtp_code=exc.code,
                refused=tuple(refused),
            ), stale and temporary
        except SMTPException as exc:
            # e.g. SMTPNotSupported: the relay lacks something this message needs.
            await self._reset_envelope(client)
            return result(DeliveryOutcome.PERMANENT, f"{phase} 阶段失败：{_describe(exc)}"), False
        except BaseException:
            # Cancelled (worker shutdown) or a bug, mid-transaction: the connection's state is
            # unknown, so never hand it to the next send. If this happened after the content
            # was written the mail may have gone; the caller must treat the row as unknown.
            self._drop_connection()
            raise

        reason = f"已发送（SMTP {reply.code} {reply.message}）"
        if refused:
            reason += "；以下收件人被拒绝：" + "；".join(refusal.describe() for refusal in refused)
        return result(
            DeliveryOutcome.SENT,
            reason,
            smtp_code=reply.code,
            server_reply=f"{reply.code} {reply.message}",
            accepted=tuple(accepted),
            refused=tuple(refused),
        ), False

    def _mail_options(
        self, client: aiosmtplib.SMTP, recipients: tuple[str, ...], payload: bytes
    ) -> tuple[list[str], str | None]:
        options: list[str] = []
        if client.supports_extension("size"):
            # The relay can refuse an oversized message before we transfer it.
            options.append(f"SIZE={len(payload)}")
        addresses = (self._settings.from_address, *recipients)
        if all(address.isascii() for address in addresses):
            return options, "ascii"
        if not client.supports_extension("smtputf8"):
            return options, None
        options.append("SMTPUTF8")
        return options, "utf-8"


_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def _wire_payload(raw: bytes) -> bytes:
    """The DATA content: CRLF line ends, leading dots doubled, ended by "." alone on a line."""
    normalised = _LINE_END.sub(b"\r\n", raw)
    if not normalised.endswith(b"\r\n"):
        normalised += b"\r\n"
    return _LEADING_DOT.sub(b"..", normalised) + b".\r\n"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (SMTPTimeoutError, TimeoutError)):
        return "等待服务器响应超时"
    if isinstance(exc, (SMTPServerDisconnected, ConnectionResetError, BrokenPipeError)):
        return "连接被服务器断开"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
