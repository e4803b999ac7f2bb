from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.bootstrap import Core, bootstrap
from core.settings import Settings
from tests.support.databases import BACKENDS, throwaway_database


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FrozenClock:
    # 2025-07-01 10:00 Beijing time, six weeks before the first batch's deadline.
    return FrozenClock(datetime(2025, 7, 1, 2, 0, tzinfo=timezone.utc))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    async with throwaway_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def make(database_url: str, **overrides) -> Settings:
        values = dict(
            database_url=database_url,
            data_dir=tmp_path / "data",
            documents_dir=tmp_path / "documents",
            default_batch_deadline="2025-08-15",
            staff_telegram_ids=[900001],
            staff_emails=["staff@example.org"],
        )
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
async def core(database_url: str, settings_for, clock: FrozenClock) -> AsyncIterator[Core]:
    app = bootstrap(settings_for(database_url), clock=clock)
    await app.prepare()
    try:
        yield app
    finally:
        await app.close()
