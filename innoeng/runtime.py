"""Per-process composition: settings loaded once, the core built from them, closed on exit."""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.bootstrap import Core, bootstrap
from core.domain import DomainError
from core.settings import Settings

__all__ = ["with_core", "run_with_core", "run_or_refuse"]

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


def run_or_refuse(action: Callable[[Core], Awaitable[int | None]]) -> int:
    """Runs a staff command; a rule of the plan that refuses it is printed (zh-CN) with exit code 2."""
    try:
        return run_with_core(action) or 0
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return 2
