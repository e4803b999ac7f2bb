"""Processes started together on one empty PostgreSQL database (bot workers, notifier) migrate without a clash."""
from __future__ import annotations

import asyncio

from core.bootstrap import bootstrap
from core.db.migrate import current_revision
from tests.support.databases import throwaway_database


async def test_four_processes_preparing_one_empty_postgresql_database_at_once_all_succeed(settings_for, tmp_path):
    async with throwaway_database("postgresql", tmp_path) as url:
        cores = [bootstrap(settings_for(url)) for _ in range(4)]
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*(core.prepare() for core in cores), return_exceptions=True), 120)
            assert [r for r in results if isinstance(r, BaseException)] == []
            head = await current_revision(cores[0].engine)
            assert head is not None
            assert len(await cores[0].batches.list()) == 1  # one default batch, not one per process
        finally:
            for core in cores:
                await core.close()
