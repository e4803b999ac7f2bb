"""The SQL statements a piece of code sends, counted through the engine's events."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import event


@contextlib.contextmanager
def statements(core) -> Iterator[list[str]]:
    """Every statement sent through `core.engine` inside the block, in order."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(core.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(core.engine.sync_engine, "before_cursor_execute", record)
