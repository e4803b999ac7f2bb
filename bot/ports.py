"""Listening on a port: one clear line when it is taken, naming the setting that chooses another."""
from __future__ import annotations

import errno
from collections.abc import Awaitable
from typing import TypeVar

from core.texts import text

__all__ = ["PortInUse", "listening"]

T = TypeVar("T")


class PortInUse(RuntimeError):
    def __init__(self, *, host: str, port: int, setting: str) -> None:
        super().__init__(text("ops.port_in_use", host=host, port=port, setting=setting))
        self.port = port
        self.setting = setting


async def listening(starting: Awaitable[T], *, host: str, port: int, setting: str) -> T:
    """Awaits a server's start; a taken (or forbidden) port becomes PortInUse instead of a raw OSError."""
    try:
        return await starting
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        raise PortInUse(host=host, port=port, setting=setting) from None
