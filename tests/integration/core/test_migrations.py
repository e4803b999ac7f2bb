"""The same Alembic scripts build, tear down and rebuild the schema on both databases."""
from __future__ import annotations

from sqlalchemy import inspect

from core.db.engine import create_engine
from core.db.migrate import current_revision, downgrade, upgrade
from core.db.models import Base, include_object



def _head() -> str:
    from alembic.script import ScriptDirectory

    from core.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


HEAD = _head()


async def table_names(engine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names())) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade(database_url):
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        assert await current_revision(engine) == HEAD
        assert await table_names(engine) == set(Base.metadata.tables)

        await downgrade(engine, "base")
        assert await current_revision(engine) is None
        assert await table_names(engine) == set()

        await upgrade(engine)
        assert await table_names(engine) == set(Base.metadata.tables)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(database_url):
    """A model change without its migration fails here, before it fails in production."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={
                    "compare_type": False, "include_object": include_object(c.dialect.name)}), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()
