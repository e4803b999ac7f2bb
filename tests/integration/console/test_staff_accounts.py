"""Staff accounts on both databases: set-up links, argon2id, TOTP, lockout, throttling, sessions."""
from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from core.db.models import AuditEntry, StaffAccount
from core.domain import DomainError, NotFound
from core.domain.staff import Role
from core.services.staff_accounts import LoginRefused
from core.texts import text

PASSWORD = "a-long-enough-passphrase"


async def _ready(core, role="reviewer", email="wang@example.org", *, totp=False):
    link = await core.staff.add(email=email, name="王审核", role=role, actor="cli")
    info = await core.staff.setup_info(token=link.token)
    code = pyotp.TOTP(info.totp_secret).at(core.clock()) if (totp or role == "admin") else None
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD, enable_totp=totp, totp_code=code)
    return link, info


async def _actions(core):
    async with core.uow() as uow:
        return [(a.action, a.subject, a.detail) for a in (await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()]


async def test_a_set_up_link_sets_an_argon2id_password_once(core):
    link = await core.staff.add(email=" Wang@Example.org ", name="王审核", role="reviewer", actor="cli")
    assert link.url.startswith("http://127.0.0.1:8090/setup/") and link.token in link.url
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    async with core.uow() as uow:
        account = await uow.session.scalar(select(StaffAccount))
        assert account.email == "wang@example.org"
        assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
        assert account.setup_token_hash is None
    with pytest.raises(NotFound):
        await core.staff.complete_setup(token=link.token, password="another-passphrase-1", confirm="another-passphrase-1")
    opened = await core.staff.log_in(email="WANG@example.org", password=PASSWORD, ip="10.0.0.1")
    assert opened.identity.role is Role.REVIEWER and opened.identity.actor == f"console:{link.account.id}"


async def test_set_up_links_expire(core, clock):
    link = await core.staff.add(email="wang@example.org", name="王审核", role="reviewer", actor="test")
    clock.advance(hours=core.settings.console_setup_link_hours, seconds=1)
    with pytest.raises(NotFound):
        await core.staff.setup_info(token=link.token)


@pytest.mark.parametrize("password, confirm, expected", [
    ("short", "short", "太短"), (PASSWORD, PASSWORD + "x", "不一致"), ("x" * 129, "x" * 129, "太长"),
])
async def test_weak_or_mistyped_passwords_are_refused_with_the_reason(core, password, confirm, expected):
    link = await core.staff.add(email="wang@example.org", name="王审核", role="reviewer", actor="test")
    with pytest.raises(DomainError) as refusal:
        await core.staff.complete_setup(token=link.token, password=password, confirm=confirm)
    assert expected in refusal.value.message
    await core.staff.setup_info(token=link.token)  # the link still works after a refusal


async def test_admins_must_set_up_totp_and_a_code_is_good_once(core, clock):
    link = await core.staff.add(email="zhao@example.org", name="赵管理", role="admin", actor="test")
    with pytest.raises(DomainError) as refusal:
        await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    assert "必须启用两步验证" in refusal.value.message
    secret = (await core.staff.setup_info(token=link.token)).totp_secret
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD,
                                    totp_code=pyotp.TOTP(secret).at(clock()))
    with pytest.raises(LoginRefused) as missing:
        await core.staff.log_in(email="zhao@example.org", password=PASSWORD)
    assert missing.value.code == "totp_missing"
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock())
    await core.staff.log_in(email="zhao@example.org", password=PASSWORD, totp_code=code)
    with pytest.raises(LoginRefused) as replay:
        await core.staff.log_in(email="zhao@example.org", password=PASSWORD, totp_code=code)
    # Still the code step of the form, but it says why: this code was used, wait for the next one.
    assert replay.value.code == "totp_invalid"
    assert replay.value.message == text("staff.totp_reused")
    assert "已经用过" in replay.value.message and "下一个" in replay.value.message
    assert (await _actions(core))[-1][2]["reason"] == "totp_reused"
    clock.advance(seconds=10)  # later in the same 30 s: still the code just used
    with pytest.raises(LoginRefused) as again:
        await core.staff.log_in(email="zhao@example.org", password=PASSWORD, totp_code=code)
    assert again.value.message == text("staff.totp_reused")
    with pytest.raises(LoginRefused) as wrong:
        await core.staff.log_in(email="zhao@example.org", password=PASSWORD,
                                totp_code="000000" if code != "000000" else "111111")
    assert wrong.value.message == text("staff.totp_invalid")
    clock.advance(seconds=30)
    await core.staff.log_in(email="zhao@example.org", password=PASSWORD, totp_code=pyotp.TOTP(secret).at(clock()))


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(core, clock):
    link, _ = await _ready(core)
    limit = core.settings.console_max_failed_logins
    for _ in range(limit):
        with pytest.raises(LoginRefused) as refusal:
            await core.staff.log_in(email="wang@example.org", password="wrong-wrong-wrong", ip="10.0.0.2")
        assert refusal.value.message == "邮箱或密码不正确。"
    with pytest.raises(LoginRefused) as locked:
        await core.staff.log_in(email="wang@example.org", password=PASSWORD, ip="10.0.0.2")
    assert locked.value.code == "locked"
    actions = await _actions(core)
    assert [a for a in actions if a[0] == "staff.locked"] and actions[-1][0] == "staff.login_refused"
    assert sum(1 for a in actions if a[0] == "staff.login_refused") == limit + 1
    clock.advance(minutes=core.settings.console_lockout_minutes, seconds=1)
    await core.staff.log_in(email="wang@example.org", password=PASSWORD, ip="10.0.0.2")


async def test_an_unknown_email_gets_the_same_answers_as_a_known_one(core):
    await _ready(core)
    refusals = []
    for email in ("nobody@example.org", "wang@example.org"):
        for _ in range(core.settings.console_max_failed_logins + 1):
            with pytest.raises(LoginRefused) as refusal:
                await core.staff.log_in(email=email, password="wrong-wrong-wrong", ip=f"10.1.0.{len(refusals)}")
            refusals.append((email, refusal.value.code, refusal.value.message))
    unknown = [(code, message) for email, code, message in refusals if email == "nobody@example.org"]
    known = [(code, message) for email, code, message in refusals if email == "wang@example.org"]
    assert unknown == known and unknown[-1][0] == "locked"


async def test_one_address_failing_too_often_is_throttled(core):
    await _ready(core)
    for number in range(core.settings.console_max_failures_per_address):
        with pytest.raises(LoginRefused):
            await core.staff.log_in(email=f"guess{number}@example.org", password="x", ip="10.9.9.9")
    with pytest.raises(LoginRefused) as throttled:
        await core.staff.log_in(email="wang@example.org", password=PASSWORD, ip="10.9.9.9")
    assert throttled.value.code == "address_throttled"
    await core.staff.log_in(email="wang@example.org", password=PASSWORD, ip="10.9.9.10")


async def test_sessions_end_on_logout_idle_absolute_timeout_and_disable(core, clock):
    await _ready(core)
    login = lambda: core.staff.log_in(email="wang@example.org", password=PASSWORD)  # noqa: E731
    first = await login()
    assert (await core.staff.resolve_session(token=first.token)).identity.email == "wang@example.org"
    assert await core.staff.resolve_session(token=first.token + "x") is None
    await core.staff.log_out(token=first.token)
    assert await core.staff.resolve_session(token=first.token) is None

    idle = await login()
    clock.advance(minutes=core.settings.console_session_idle_minutes, seconds=1)
    assert await core.staff.resolve_session(token=idle.token) is None

    busy = await login()
    for _ in range(core.settings.console_session_absolute_hours * 3):
        clock.advance(minutes=20)
        if await core.staff.resolve_session(token=busy.token) is None:
            break
    assert clock() - busy.expires_at < __import__("datetime").timedelta(minutes=21)  # ended at the absolute limit

    last = await login()
    account_id = last.identity.id
    await core.staff.disable(ref=str(account_id), actor="cli")
    assert await core.staff.resolve_session(token=last.token) is None
    with pytest.raises(LoginRefused):
        await login()


async def test_a_linked_telegram_id_resolves_to_the_same_name(core):
    link, _ = await _ready(core)
    await core.staff.link_telegram(ref="wang@example.org", telegram_id=900001, actor="cli")
    names = await core.staff.actor_names()
    assert names[f"console:{link.account.id}"] == names["staff:900001"] == "王审核"
    assert set(await core.staff.actors_of(name_or_email="王")) == {f"console:{link.account.id}", "staff:900001"}
    other = await core.staff.add(email="li@example.org", name="李协调", role="coordinator", actor="test")
    with pytest.raises(DomainError):
        await core.staff.link_telegram(ref=str(other.account.id), telegram_id=900001, actor="cli")


async def test_duplicate_email_and_unknown_role_are_refused(core):
    first = await core.staff.add(email="wang@example.org", name="王审核", role="reviewer", actor="test")
    with pytest.raises(DomainError, match="已有工作人员账号") as taken:
        await core.staff.add(email="WANG@example.org", name="王二", role="reviewer", actor="test")
    # It says whose account it is and how to give that person a new set-up link, on the page and in the shell.
    message = taken.value.message
    assert f"#{first.account.id} 王审核" in message
    assert "「工作人员账号」页" in message and "「重设密码」" in message and "innoeng staff reset wang@example.org" in message
    assert "启用" not in message
    await core.staff.disable(ref="wang@example.org", actor="cli")
    with pytest.raises(DomainError) as disabled:
        await core.staff.add(email="wang@example.org", name="王二", role="reviewer", actor="test")
    assert "已停用" in disabled.value.message and "innoeng staff enable wang@example.org" in disabled.value.message
    with pytest.raises(DomainError, match="不是可选角色"):
        await core.staff.add(email="x@example.org", name="某", role="boss", actor="test")


async def test_an_account_promoted_to_admin_without_totp_cannot_log_in_until_set_up_again(core, clock):
    link, _ = await _ready(core)
    await core.staff.change_role(ref="wang@example.org", role="admin", actor="cli")
    with pytest.raises(LoginRefused) as refused:
        await core.staff.log_in(email="wang@example.org", password=PASSWORD)
    assert refused.value.code == "admin_without_totp" and "重设密码" in refused.value.message
    again = await core.staff.reissue_setup(ref="wang@example.org", actor="cli")
    secret = (await core.staff.setup_info(token=again.token)).totp_secret
    await core.staff.complete_setup(token=again.token, password=PASSWORD, confirm=PASSWORD,
                                    totp_code=pyotp.TOTP(secret).at(clock()))
    clock.advance(seconds=30)
    opened = await core.staff.log_in(email="wang@example.org", password=PASSWORD, totp_code=pyotp.TOTP(secret).at(clock()))
    assert opened.identity.role is Role.ADMIN
