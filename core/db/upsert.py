"""INSERT … ON CONFLICT for the two engines we run on (their statements share one API in SQLAlchemy)."""
from __future__ import annotations

from typing import Any

__all__ = ["upsert_for"]


def upsert_for(dialect: str) -> Any:
    """The `insert` construct of this dialect, which has `on_conflict_do_update` / `on_conflict_do_nothing`."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
