"""Per-process composition: settings loaded once, the core built from them, closed on exit."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.bootstrap import Core, bootstrap
from core.settings import Settings

__all__ = ["with_core", "run_with_core"]

T = TypeVar("T")


async def with_core(action: Callable[[Core], Awaitable[T]], *, settings: Settings | None = None, prepare: bool = True) -> T:
    core = bootstrap(settings or Settings())
    try:
        if prepare:
            await core.prepare()
        return await action(core)
    finally:
        await core.close()


def run_with_core(action: Callable[[Core], Awaitable[T]], *, prepare: bool = True) -> T:
    return asyncio.run(with_core(action, prepare=prepare))
