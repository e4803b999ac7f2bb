"""Web sign-in: one-time codes (life cycle, throttles, brute force), sessions, identities, and a Telegram
applicant claiming their application on the web. On SQLite and PostgreSQL."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.db.models import AuditEntry, OutboxMessage, Person, PersonIdentity, SignInCode
from core.domain import DomainError, NotFound
from core.services.intake import reference_number
from core.services.signin import SignInRefused
from tests.support.factories import submitted_expert

IP = "203.0.113.7"


async def outbox(core, kind="signin_code") -> list[SimpleNamespace]:
    async with core.uow() as uow:
        rows = (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))).all()
        return [SimpleNamespace(channel=r.channel, address=r.address, person_id=r.person_id, status=r.status,
                                payload=r.payload) for r in rows]


async def last_code(core, address: str) -> str:
    rows = [r for r in await outbox(core) if r.address == address.strip().lower()]
    return rows[-1].payload["code"]


async def identities(core, person_id: int) -> list[tuple[str, str]]:
    return [(i.channel, i.identifier) for i in await core.people.identities(person_id=person_id)]


async def sign_in(core, address: str, *, channel: str = "email", ip: str = IP):
    await core.signin.request_code(channel=channel, address=address, ip=ip)
    return await core.signin.verify(channel=channel, address=address, code=await last_code(core, address), ip=ip)


# ------------------------------------------------------------------ codes

async def test_a_code_goes_out_through_the_outbox_and_only_its_hash_is_stored(core, clock):
    request = await core.signin.request_code(channel="email", address="  Li.Ming@Example.COM ", ip=IP)

    assert request.address == "li.ming@example.com" and request.masked_address != request.address
    assert request.expires_at == clock.now + core.signin.policy.code_valid
    (row,) = await outbox(core)
    assert (row.channel, row.address, row.person_id, row.status) == ("email", "li.ming@example.com", None, "queued")
    code = row.payload["code"]
    assert len(code) == 6 and code.isdigit() and row.payload["minutes"] == 10
    async with core.uow() as uow:
        (stored,) = (await uow.session.execute(select(SignInCode.code_hash, SignInCode.salt))).all()
    assert code not in (stored.code_hash, stored.salt) and len(stored.code_hash) == 64


async def test_a_mobile_code_is_an_sms_row_to_the_eleven_digits(core):
    request = await core.signin.request_code(channel="mobile", address="+86 138-0013-8000", ip=IP)

    assert request.address == "13800138000"
    (row,) = await outbox(core)
    assert (row.channel, row.address) == ("sms", "13800138000")


async def test_a_bad_address_is_refused_with_the_forms_message(core):
    with pytest.raises(DomainError, match="不是有效的电子邮箱地址"):
        await core.signin.request_code(channel="email", address="li ming@example", ip=IP)
    with pytest.raises(DomainError, match="不是有效的中国大陆手机号"):
        await core.signin.request_code(channel="mobile", address="12345", ip=IP)
    with pytest.raises(DomainError, match="电子邮箱或手机号"):
        await core.signin.request_code(channel="telegram", address="42", ip=IP)
    assert await outbox(core) == []


async def test_first_verify_creates_a_person_without_consent_and_with_the_identity(core, clock):
    person = await sign_in(core, "new@example.com")

    assert not person.consented and person.telegram_id is None and person.email == "new@example.com"
    assert await identities(core, person.id) == [("email", "new@example.com")]
    (identity,) = await core.people.identities(person_id=person.id)
    assert identity.verified_at == clock.now
    # The next sign-in with that address finds the same person.
    clock.advance(minutes=2)
    again = await sign_in(core, "NEW@example.com")
    assert again.id == person.id


async def test_a_code_is_good_once(core):
    await core.signin.request_code(channel="email", address="once@example.com", ip=IP)
    code = await last_code(core, "once@example.com")
    await core.signin.verify(channel="email", address="once@example.com", code=code, ip=IP)

    with pytest.raises(SignInRefused, match="已经用过") as refused:
        await core.signin.verify(channel="email", address="once@example.com", code=code, ip=IP)
    assert refused.value.code == "code_used"


async def test_a_code_expires_after_ten_minutes(core, clock):
    await core.signin.request_code(channel="email", address="late@example.com", ip=IP)
    code = await last_code(core, "late@example.com")
    clock.advance(minutes=10)

    with pytest.raises(SignInRefused, match="已过期（有效期 10 分钟）"):
        await core.signin.verify(channel="email", address="late@example.com", code=code, ip=IP)


async def test_a_code_just_inside_its_ten_minutes_still_works(core, clock):
    await core.signin.request_code(channel="email", address="ontime@example.com", ip=IP)
    code = await last_code(core, "ontime@example.com")
    clock.advance(minutes=9, seconds=59)

    person = await core.signin.verify(channel="email", address="ontime@example.com", code=code, ip=IP)
    assert person.email == "ontime@example.com"


async def test_five_wrong_tries_kill_the_code(core):
    await core.signin.request_code(channel="email", address="guess@example.com", ip=IP)
    code = await last_code(core, "guess@example.com")
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"

    for left in (4, 3, 2, 1):
        with pytest.raises(SignInRefused, match=f"还可以再试 {left} 次"):
            await core.signin.verify(channel="email", address="guess@example.com", code=wrong, ip=IP)
    with pytest.raises(SignInRefused, match="已达 5 次，这个验证码已失效") as refused:
        await core.signin.verify(channel="email", address="guess@example.com", code=wrong, ip=IP)
    assert refused.value.code == "code_dead"
    # Even the right code is refused now.
    with pytest.raises(SignInRefused, match="已失效"):
        await core.signin.verify(channel="email", address="guess@example.com", code=code, ip=IP)


async def test_a_malformed_code_is_told_apart_and_costs_no_try(core):
    await core.signin.request_code(channel="email", address="typo@example.com", ip=IP)
    code = await last_code(core, "typo@example.com")
    with pytest.raises(SignInRefused, match="6 位数字"):
        await core.signin.verify(channel="email", address="typo@example.com", code="12a45", ip=IP)
    # Spaces and full-width digits are what people type on phones.
    spaced = f"{code[:3]} {code[3:]}".translate({ord(str(d)): chr(ord("０") + d) for d in range(10)})
    person = await core.signin.verify(channel="email", address="typo@example.com", code=spaced, ip=IP)
    assert person.email == "typo@example.com"


async def test_only_the_newest_code_counts(core, clock):
    await core.signin.request_code(channel="email", address="two@example.com", ip=IP)
    first = await last_code(core, "two@example.com")
    clock.advance(minutes=1)
    await core.signin.request_code(channel="email", address="two@example.com", ip=IP)
    second = await last_code(core, "two@example.com")
    if first != second:
        with pytest.raises(SignInRefused, match="最新收到的那一个"):
            await core.signin.verify(channel="email", address="two@example.com", code=first, ip=IP)
    await core.signin.verify(channel="email", address="two@example.com", code=second, ip=IP)


async def test_no_code_asked_for(core):
    with pytest.raises(SignInRefused, match="请先点击「发送验证码」") as refused:
        await core.signin.verify(channel="email", address="never@example.com", code="123456", ip=IP)
    assert refused.value.code == "no_code"


# ------------------------------------------------------------------ throttles

async def test_one_code_a_minute_per_address(core, clock):
    request = await core.signin.request_code(channel="email", address="wait@example.com", ip=IP)
    assert request.resend_at == clock.now + core.signin.policy.resend_after
    clock.advance(seconds=20)

    with pytest.raises(SignInRefused, match="请 40 秒后再获取验证码") as refused:
        await core.signin.request_code(channel="email", address="wait@example.com", ip=IP)
    assert refused.value.code == "too_soon" and refused.value.retry_after == 40
    # Another address is not held up.
    await core.signin.request_code(channel="email", address="other@example.com", ip=IP)
    clock.advance(seconds=40)
    await core.signin.request_code(channel="email", address="wait@example.com", ip=IP)


async def test_five_codes_an_hour_per_address(core, clock):
    for _ in range(5):
        await core.signin.request_code(channel="mobile", address="13800138000", ip=IP)
        clock.advance(minutes=2)

    with pytest.raises(SignInRefused, match="一小时内获取验证码已达 5 次，请 50 分钟后") as refused:
        await core.signin.request_code(channel="mobile", address="13800138000", ip=IP)
    assert refused.value.code == "address_throttled"
    # From a different network it is the same address: still refused.
    with pytest.raises(SignInRefused, match="已达 5 次"):
        await core.signin.request_code(channel="mobile", address="138 0013 8000", ip="198.51.100.1")
    clock.advance(minutes=50)
    await core.signin.request_code(channel="mobile", address="13800138000", ip=IP)


async def test_resend_at_tells_when_the_hour_is_used_up(core, clock):
    start = clock.now
    for n in range(5):
        request = await core.signin.request_code(channel="email", address="hour@example.com", ip=IP)
        if n < 4:
            assert request.resend_at == clock.now + core.signin.policy.resend_after
        clock.advance(minutes=2)
    assert request.resend_at == start + core.signin.policy.resend_after * 60


async def test_twenty_codes_an_hour_per_ip(core, clock):
    for n in range(20):
        await core.signin.request_code(channel="email", address=f"p{n}@example.com", ip=IP)
    with pytest.raises(SignInRefused, match="您所在的网络获取验证码过于频繁，请 60 分钟后") as refused:
        await core.signin.request_code(channel="email", address="p20@example.com", ip=IP)
    assert refused.value.code == "ip_throttled"
    await core.signin.request_code(channel="email", address="p20@example.com", ip="198.51.100.1")
    clock.advance(hours=1)
    await core.signin.request_code(channel="email", address="p21@example.com", ip=IP)


async def test_wrong_codes_across_addresses_throttle_the_ip(core, clock):
    policy = core.signin.policy
    n = 0
    while n < policy.failures_per_ip_per_hour:
        address = f"g{n}@example.com"
        await core.signin.request_code(channel="email", address=address, ip=f"198.51.100.{n}")
        code = await last_code(core, address)
        wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
        for _ in range(min(policy.max_tries, policy.failures_per_ip_per_hour - n)):
            with pytest.raises(SignInRefused):
                await core.signin.verify(channel="email", address=address, code=wrong, ip=IP)
            n += 1
    with pytest.raises(SignInRefused, match="验证码输入错误次数过多，请 60 分钟后再试") as refused:
        await core.signin.verify(channel="email", address="g0@example.com", code="000000", ip=IP)
    assert refused.value.code == "verify_throttled"


async def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(core, clock):
    await sign_in(core, "known@example.com")
    clock.advance(minutes=5)

    known = await core.signin.request_code(channel="email", address="known@example.com", ip=IP)
    unknown = await core.signin.request_code(channel="email", address="unknown@example.com", ip=IP)

    assert type(known) is type(unknown)
    assert (known.channel, known.expires_at, known.resend_at) == (unknown.channel, unknown.expires_at, unknown.resend_at)
    rows = await outbox(core)
    assert [r.address for r in rows[-2:]] == ["known@example.com", "unknown@example.com"]
    assert rows[-2].payload.keys() == rows[-1].payload.keys()


# ------------------------------------------------------------------ sessions

async def test_session_open_renew_expire(core, clock):
    person = await sign_in(core, "session@example.com")
    session_id = await core.signin.open_session(person_id=person.id, user_agent="MicroMessenger/8.0", ip=IP)
    assert len(session_id) >= 43

    session = await core.signin.session(session_id=session_id)
    assert session.person_id == person.id and session.created_at == clock.now
    # Used within 30 days, it lives on: each use renews it.
    clock.advance(days=29)
    assert (await core.signin.session(session_id=session_id)).last_seen_at == clock.now
    clock.advance(days=29)
    renewed = await core.signin.session(session_id=session_id)
    assert renewed.person_id == person.id and renewed.expires_at == clock.now + core.signin.policy.session_idle
    # Thirty days without use: gone.
    clock.advance(days=30)
    assert await core.signin.session(session_id=session_id) is None
    assert await core.signin.session(session_id="not-a-session") is None
    assert await core.signin.session(session_id="") is None


async def test_only_the_hash_of_a_session_id_is_stored(core):
    from core.db.models import ParticipantSession

    person = await sign_in(core, "hash@example.com")
    session_id = await core.signin.open_session(person_id=person.id, user_agent=None, ip=None)
    async with core.uow() as uow:
        (stored,) = (await uow.session.scalars(select(ParticipantSession.id))).all()
    assert stored != session_id and len(stored) == 64


async def test_close_and_close_all(core):
    person = await sign_in(core, "close@example.com")
    phone = await core.signin.open_session(person_id=person.id, user_agent="phone", ip=IP)
    laptop = await core.signin.open_session(person_id=person.id, user_agent="laptop", ip=IP)
    tablet = await core.signin.open_session(person_id=person.id, user_agent="tablet", ip=IP)
    assert len({phone, laptop, tablet}) == 3

    await core.signin.close(session_id=phone)
    assert await core.signin.session(session_id=phone) is None
    assert await core.signin.session(session_id=laptop) is not None

    assert await core.signin.close_all(person_id=person.id) == 2
    assert await core.signin.session(session_id=laptop) is None
    assert await core.signin.session(session_id=tablet) is None


async def test_a_session_for_nobody_is_refused(core):
    with pytest.raises(NotFound):
        await core.signin.open_session(person_id=999999, user_agent=None, ip=None)


# ------------------------------------------------------------------ identities and linking

async def test_link_identity_needs_a_verified_code(core, clock):
    person = await sign_in(core, "main@example.com")

    with pytest.raises(DomainError, match="请先获取验证码并验证这个手机号"):
        await core.people.link_identity(person_id=person.id, channel="mobile", identifier="13900001111")
    await core.signin.request_code(channel="mobile", address="13900001111", ip=IP)
    code = await last_code(core, "13900001111")
    assert await core.signin.confirm(person_id=person.id, channel="mobile", address="139 0000 1111", code=code,
                                     ip=IP) == "13900001111"

    linked = await core.people.link_identity(person_id=person.id, channel="mobile", identifier="+8613900001111")
    assert linked.mobile == "13900001111"
    assert await identities(core, person.id) == [("email", "main@example.com"), ("mobile", "13900001111")]
    # Signing in with the mobile now finds the same person.
    clock.advance(minutes=2)
    assert (await sign_in(core, "13900001111", channel="mobile")).id == person.id
    async with core.uow() as uow:
        actions = (await uow.session.scalars(select(AuditEntry.action).where(
            AuditEntry.subject == f"person:{person.id}"))).all()
    assert "person.link_identity" in actions


async def test_link_identity_refuses_someone_elses_address_and_a_stale_code(core, clock):
    person = await sign_in(core, "a@example.com")
    await sign_in(core, "b@example.com")
    with pytest.raises(DomainError, match="已用于另一个账号"):
        await core.people.link_identity(person_id=person.id, channel="email", identifier="b@example.com")

    # Another person's proof is not this person's.
    other = await sign_in(core, "d@example.com")
    await core.signin.request_code(channel="email", address="c@example.com", ip=IP)
    await core.signin.confirm(person_id=other.id, channel="email", address="c@example.com",
                              code=await last_code(core, "c@example.com"), ip=IP)
    with pytest.raises(DomainError, match="请先获取验证码"):
        await core.people.link_identity(person_id=person.id, channel="email", identifier="c@example.com")
    # Nor is a proof older than ten minutes.
    clock.advance(minutes=1)
    await core.signin.request_code(channel="email", address="c@example.com", ip=IP)
    await core.signin.confirm(person_id=person.id, channel="email", address="c@example.com",
                              code=await last_code(core, "c@example.com"), ip=IP)
    clock.advance(minutes=11)
    with pytest.raises(DomainError, match="请先获取验证码"):
        await core.people.link_identity(person_id=person.id, channel="email", identifier="c@example.com")
    with pytest.raises(DomainError, match="只能添加电子邮箱或手机号"):
        await core.people.link_identity(person_id=person.id, channel="telegram", identifier="12345")


async def test_a_telegram_applicant_claims_their_application_on_the_web(core, clock):
    application_id = await submitted_expert(core, email="Expert.Wang@Example.com", mobile="13712345678")
    async with core.uow() as uow:
        app = await uow.applications.get(application_id)
        applicant, reference = app.person_id, reference_number(app)

    web = await sign_in(core, "expert.wang@example.com")
    assert web.id != applicant, "never merged by itself"
    claims = await core.signin.claimable(person_id=web.id)
    assert [c.person_id for c in claims] == [applicant]
    assert claims[0].reference == reference
    # Somebody else signed in on the web sees nothing to claim.
    clock.advance(minutes=1)
    stranger = await sign_in(core, "stranger@example.com")
    assert await core.signin.claimable(person_id=stranger.id) == []
    with pytest.raises(NotFound):
        await core.signin.link(person_id=stranger.id, other_person_id=applicant)

    web_session = await core.signin.open_session(person_id=web.id, user_agent=None, ip=IP)
    merged = await core.signin.link(person_id=web.id, other_person_id=applicant)

    assert merged.id == applicant and merged.telegram_id is not None
    assert set(await identities(core, applicant)) == {("telegram", str(merged.telegram_id)),
                                                      ("email", "expert.wang@example.com")}
    assert await core.signin.session(session_id=web_session) is None, "the empty web person is gone"
    async with core.uow() as uow:
        assert await uow.people.get(web.id) is None
        detail = await uow.session.scalar(select(AuditEntry.detail).where(
            AuditEntry.action == "person.link", AuditEntry.subject == f"person:{applicant}"))
    assert detail["from_person"] == web.id and "expert.wang@example.com" not in str(detail)
    # The next sign-in with that e-mail is the applicant.
    clock.advance(minutes=2)
    assert (await sign_in(core, "expert.wang@example.com")).id == applicant


async def test_a_draft_carrying_the_mobile_is_claimable_too(core):
    person = await core.people.register_telegram_user(telegram_id=555001, display_name=None)
    await core.people.give_consent(person_id=person.id)
    draft = await core.intake.start(person_id=person.id, form="expert")
    await core.intake.fill(application_id=draft.application_id, answers={"name": "王五", "mobile": "13698765432"})

    web = await sign_in(core, "13698765432", channel="mobile")
    assert [c.person_id for c in await core.signin.claimable(person_id=web.id)] == [person.id]


async def test_a_web_person_with_an_application_of_their_own_is_not_merged(core):
    application_id = await submitted_expert(core, email="dup@example.com")
    async with core.uow() as uow:
        applicant = (await uow.applications.get(application_id)).person_id
    web = await sign_in(core, "dup@example.com")
    await core.people.give_consent(person_id=web.id)
    await core.intake.start(person_id=web.id, form="university")

    with pytest.raises(DomainError, match="已经开始填写申请"):
        await core.signin.link(person_id=web.id, other_person_id=applicant)
    assert ("email", "dup@example.com") in await identities(core, web.id)


async def test_an_erased_stub_is_not_signed_into(core, clock):
    person = await sign_in(core, "gone@example.com")
    async with core.uow() as uow:
        row = await uow.people.get(person.id)
        row.erased_at = clock.now
        await uow.commit()
    clock.advance(minutes=2)
    fresh = await sign_in(core, "gone@example.com")
    assert fresh.id != person.id
    async with core.uow() as uow:
        owners = (await uow.session.scalars(select(PersonIdentity.person_id).where(
            PersonIdentity.identifier == "gone@example.com"))).all()
        assert owners == [fresh.id]
        assert await uow.session.scalar(select(Person.erased_at).where(Person.id == person.id)) is not None


async def test_erasure_takes_the_sign_in_identities_sessions_and_codes_with_it(core, clock):
    person = await sign_in(core, "wang@example.com")
    session_id = await core.signin.open_session(person_id=person.id, user_agent="t", ip=IP)
    exported = await core.privacy.export(person_id=person.id)
    assert exported["sign_in"] == [{"channel": "email", "identifier": "wang@example.com",
                                   "verified_at": exported["sign_in"][0]["verified_at"]}]
    await core.privacy.erase(person_id=person.id)
    assert await core.signin.session(session_id=session_id) is None
    async with core.uow() as uow:
        assert (await uow.session.scalars(select(PersonIdentity))).all() == []
        assert (await uow.session.scalars(select(SignInCode).where(SignInCode.address == "wang@example.com"))).all() == []
    clock.advance(minutes=2)
    again = await sign_in(core, "wang@example.com")  # a new person: nothing of the old one is reached
    assert not again.consented and await core.signin.session(session_id=session_id) is None
    assert (await core.privacy.export(person_id=again.id))["applications"] == []
