"""Sending by writing .eml files: the embedded default when no SMTP relay is configured."""
from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path

from .delivery import DeliveryOutcome, DeliveryResult
from .message import EmailMessageSpec, InvalidAddress, build_email_message, message_bytes

__all__ = ["EmlFileMailer", "eml_file_name"]

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def eml_file_name(message_id: str) -> str:
    """A file name derived from the Message-ID alone, so a resend overwrites its own file."""
    stem = _UNSAFE_FILE_CHARS.sub("_", message_id.strip("<>")).strip("._") or "message"
    return stem[:200] + ".eml"


class EmlFileMailer:
    """Writes each message, exactly as it would go over SMTP, to `<directory>/<message id>.eml`."""

    def __init__(self, directory: str | os.PathLike[str], *, sender: str) -> None:
        self._directory = Path(directory)
        self._sender = sender

    @property
    def directory(self) -> Path:
        return self._directory

    def path_for(self, spec: EmailMessageSpec) -> Path:
        return self._directory / eml_file_name(spec.message_id)

    async def send(self, spec: EmailMessageSpec) -> DeliveryResult:
        try:
            recipients = spec.recipients()
        except InvalidAddress as exc:
            # Same verdict as the SMTP mailer, so a run without a relay shows the same failures.
            return DeliveryResult(DeliveryOutcome.PERMANENT, str(exc), message_id=spec.message_id)
        data = message_bytes(build_email_message(spec, sender=self._sender))
        path = self.path_for(spec)
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError as exc:
            return DeliveryResult(
                DeliveryOutcome.TRANSIENT, f"无法写入邮件文件 {path}：{exc}", message_id=spec.message_id
            )
        return DeliveryResult(
            DeliveryOutcome.SENT,
            f"已写入 {path}",
            message_id=spec.message_id,
            server_reply=str(path),
            accepted=recipients,
        )

    async def aclose(self) -> None:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    # Readers (people, tests, a mail client) never see half a message, and a crash
    # mid-write leaves the previous version in place.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
