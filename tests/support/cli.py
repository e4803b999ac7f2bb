"""A database file shared by a test's own Core and the `innoeng` processes it starts."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path

from core.bootstrap import Core, bootstrap
from core.settings import Settings

__all__ = ["cli_core"]


@asynccontextmanager
async def cli_core(tmp_path: Path) -> AsyncIterator[tuple[Core, dict[str, str]]]:
    """A prepared Core on a SQLite file in tmp_path, closed on leaving, and the environment (env_extra of
    tests.integration.core.test_cli.innoeng) that opens the same database and directories in a process.

    The first batch's deadline is 60 days after the real today: a process runs on the real clock."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'innoeng.sqlite3'}"
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "DOCUMENTS_DIR": str(tmp_path / "documents")}
    core = bootstrap(Settings(_env_file=None, database_url=url, data_dir=tmp_path / "data",
                              documents_dir=tmp_path / "documents",
                              default_batch_deadline=(date.today() + timedelta(days=60)).isoformat()))
    await core.prepare()
    try:
        yield core, env
    finally:
        await core.close()
