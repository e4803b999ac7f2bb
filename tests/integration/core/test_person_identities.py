"""A person is not a Telegram user: identities, the migration that brings Telegram ids over, and notices that
follow the channels a person has. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import inspect, select, text

from core.db.engine import create_engine
from core.db.migrate import downgrade, upgrade
from core.db.models import OutboxMessage, Person, PersonIdentity
from core.services.common import channels_for, queue_notification
from core.services.notifications import _route_rows

REGISTERED = datetime(2025, 6, 1, 8, 30, tzinfo=timezone.utc)


# ------------------------------------------------------------------ the migration

async def test_migration_0012_carries_every_telegram_id_over(database_url):
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0011")
        async with engine.begin() as connection:
            for telegram_id, email in ((111, "a@example.com"), (222, None), (None, "web@example.com")):
                await connection.execute(text(
                    "INSERT INTO people (telegram_id, email, preferred_channel, locale, created_at) "
                    "VALUES (:telegram_id, :email, 'both', 'zh-CN', :created_at)"),
                    {"telegram_id": telegram_id, "email": email,
                     "created_at": REGISTERED if engine.dialect.name == "postgresql" else "2025-06-01 08:30:00.000000"})
        await upgrade(engine, "0012")
        async with engine.connect() as connection:
            people = dict((await connection.execute(text("SELECT telegram_id, id FROM people"))).all())
            rows = (await connection.execute(text(
                "SELECT person_id, channel, identifier, verified_at FROM person_identities ORDER BY identifier"))).all()
        assert [(r.person_id, r.channel, r.identifier) for r in rows] == [
            (people[111], "telegram", "111"), (people[222], "telegram", "222")]
        # Verified when the person was registered (SQLite hands back text, PostgreSQL a datetime).
        assert all(str(r.verified_at).startswith("2025-06-01 08:30") for r in rows)
        # Contact e-mails are not identities: nobody verified them.
        assert len(rows) == 2

        await downgrade(engine, "0011")
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert not tables & {"person_identities", "signin_codes", "signin_failures", "web_sessions"}
        assert "people" in tables
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ registration writes the identity

async def test_registering_a_telegram_user_writes_their_identity(core):
    person = await core.people.register_telegram_user(telegram_id=424242, display_name="王")

    (identity,) = await core.people.identities(person_id=person.id)
    assert (identity.channel, identity.identifier) == ("telegram", "424242") and identity.verified_at is not None
    # Registering again changes nothing.
    again = await core.people.register_telegram_user(telegram_id=424242, display_name="王")
    assert again.id == person.id and len(await core.people.identities(person_id=person.id)) == 1


async def test_the_bots_first_update_registers_the_person_with_their_identity(core):
    arrival = await core.updates.arrive(bot_id=1, update_id=10, digest="d" * 64, telegram_id=616161)

    assert [(i.channel, i.identifier) for i in await core.people.identities(person_id=arrival.person.id)] == [
        ("telegram", "616161")]


async def test_a_person_registered_without_the_identity_gets_it_on_their_next_registration(core):
    async with core.uow() as uow:
        person = Person(telegram_id=515151, preferred_channel="both", locale="zh-CN", created_at=core.clock())
        uow.people.add(person)
        await uow.commit()
        person_id = person.id
    assert await core.people.identities(person_id=person_id) == []

    await core.people.register_telegram_user(telegram_id=515151, display_name=None)
    assert [(i.channel, i.identifier) for i in await core.people.identities(person_id=person_id)] == [
        ("telegram", "515151")]


async def test_an_identity_is_unique_per_channel(core):
    import pytest
    from sqlalchemy.exc import IntegrityError

    a = await core.people.register_telegram_user(telegram_id=1001, display_name=None)
    b = await core.people.create(display_name="乙")
    async with core.uow() as uow:
        uow.session.add(PersonIdentity(person_id=b.id, channel="telegram", identifier="1001",
                                       verified_at=None, created_at=core.clock()))
        with pytest.raises(IntegrityError):
            await uow.commit()
    assert len(await core.people.identities(person_id=a.id)) == 1


# ------------------------------------------------------------------ notices follow the channels a person has

async def _rows(core, person_id: int) -> list[tuple[str, str | None, list]]:
    async with core.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == person_id)
                                          .order_by(OutboxMessage.id))).all()
        return [(r.channel, r.address, r.payload.get("channels")) for r in rows]


async def _notify(core, person_id: int, occasion: str = "t1") -> None:
    async with core.uow() as uow:
        person = await uow.people.get(person_id)
        await queue_notification(uow, kind="review_approved", person=person, occasion=occasion,
                                 payload={"form": "expert", "reference": "E01-000001"}, now=core.clock())
        await uow.commit()


async def test_a_telegram_user_with_an_email_hears_on_both(core):
    person = await core.people.register_telegram_user(telegram_id=777001, display_name=None)
    async with core.uow() as uow:
        (await uow.people.get(person.id)).email = "tg@example.com"
        await uow.commit()

    await _notify(core, person.id)
    assert await _rows(core, person.id) == [
        ("email", "tg@example.com", ["email", "telegram"]), ("telegram", "777001", ["email", "telegram"])]


async def test_a_person_who_signed_in_on_the_web_gets_no_telegram_row(core):
    await core.signin.request_code(channel="email", address="web@example.com", ip="192.0.2.1")
    async with core.uow() as uow:
        code = (await uow.session.scalar(select(OutboxMessage.payload).where(
            OutboxMessage.kind == "signin_code")))["code"]
    person = await core.signin.verify(channel="email", address="web@example.com", code=code, ip="192.0.2.1")
    # Even someone who asked for both channels: there is no Telegram account to write to.
    await core.people.set_preferred_channel(person_id=person.id, channel="both")

    await _notify(core, person.id)
    assert await _rows(core, person.id) == [("email", "web@example.com", ["email"])]


async def test_the_fallbacks_stay(core):
    async with core.uow() as uow:
        wants_telegram = Person(email="e@example.com", preferred_channel="telegram", locale="zh-CN", created_at=core.clock())
        wants_email = Person(telegram_id=880001, preferred_channel="email", locale="zh-CN", created_at=core.clock())
        nowhere = Person(preferred_channel="both", locale="zh-CN", created_at=core.clock())
        uow.session.add_all([wants_telegram, wants_email, nowhere])
        await uow.commit()
        ids = wants_telegram.id, wants_email.id, nowhere.id
    for person_id in ids:
        await _notify(core, person_id)

    # Chose a channel we cannot reach: hears on the other.
    assert await _rows(core, ids[0]) == [("email", "e@example.com", ["email"])]
    assert await _rows(core, ids[1]) == [("telegram", "880001", ["telegram"])]
    # Unreachable: one e-mail row without an address, for the notifier to fail and staff to see; no Telegram row.
    assert await _rows(core, ids[2]) == [("email", None, [])]


def test_bulk_rows_carry_the_channels_too():
    person = Person(id=9, email="bulk@example.com", telegram_id=None, preferred_channel="both")
    now = datetime(2025, 7, 1, tzinfo=timezone.utc)
    rows = _route_rows(kind="deadline_reminder", person=person, occasion="b1:d7", payload={"days_left": 7},
                       now=now, due_at=now)
    assert [(r["channel"], r["address"], r["payload"]["channels"]) for r in rows] == [
        ("email", "bulk@example.com", ["email"])]
    assert channels_for(person) == [("email", "bulk@example.com")]
