"""A local Bot API stand-in per test, and a client acting as the people in its chats."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox import SandboxClient, SandboxServer


@pytest.fixture
async def stand_in() -> AsyncIterator[SandboxServer]:
    server = await SandboxServer("127.0.0.1", 0).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def people(stand_in: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(stand_in.base_url) as client:
        yield client
