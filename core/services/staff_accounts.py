"""Staff accounts of the console: set-up links, argon2id passwords, TOTP, throttled login, DB sessions."""
from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update

from core.db.models import StaffAccount, StaffLoginAttempt, StaffSession
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import DomainError, NotFound
from core.domain.limits import MAX_BIGINT, MIN_BIGINT, STAFF_EMAIL, STAFF_NAME, id_in_range, parse_int, shown
from core.domain.staff import Role, StaffIdentity, chat_actor, console_actor
from core.services.common import Clock, audit, utc_now
from core.texts import text
from core.domain.permissions import Action, AnyActor
from core.services.permissions import authorize

__all__ = [
    "StaffAccountService",
    "StaffAccountView",
    "SetupLink",
    "SetupInfo",
    "LoginRefused",
    "OpenSession",
    "ConsoleSession",
    "ConsolePolicy",
    "parse_role",
    "hash_token",
    "PASSWORD_MIN_LENGTH",
]

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A dummy hash verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("not-a-password-of-anyone")


class LoginRefused(DomainError):
    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True)
class ConsolePolicy:
    """The console's security limits, taken from the settings by the composition root."""

    base_url: str = "http://127.0.0.1:8090"
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    setup_link_valid: timedelta = timedelta(hours=72)
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    max_failures_per_address: int = 20
    address_window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings) -> "ConsolePolicy":
        return cls(
            base_url=settings.console_url,
            session_idle=timedelta(minutes=settings.console_session_idle_minutes),
            session_absolute=timedelta(hours=settings.console_session_absolute_hours),
            setup_link_valid=timedelta(hours=settings.console_setup_link_hours),
            max_failed_logins=settings.console_max_failed_logins,
            lockout=timedelta(minutes=settings.console_lockout_minutes),
            max_failures_per_address=settings.console_max_failures_per_address,
            address_window=timedelta(minutes=settings.console_address_window_minutes),
        )


@dataclass(frozen=True)
class StaffAccountView:
    id: int
    email: str
    name: str
    role: Role
    telegram_id: int | None
    totp_enabled: bool
    has_password: bool
    disabled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime

    @property
    def actor(self) -> str:
        return console_actor(self.id)


@dataclass(frozen=True)
class SetupLink:
    account: StaffAccountView
    url: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class SetupInfo:
    """What the set-up page shows: who it is for, and the TOTP key to add to an authenticator app."""

    email: str
    name: str
    role: Role
    totp_secret: str
    totp_uri: str
    totp_required: bool


@dataclass(frozen=True)
class OpenSession:
    token: str
    csrf_token: str
    identity: StaffIdentity
    expires_at: datetime


@dataclass(frozen=True)
class ConsoleSession:
    identity: StaffIdentity
    csrf_token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise DomainError(text("staff.role_unknown", raw=raw)) from None


def _normalise_email(raw: str) -> str:
    email = STAFF_EMAIL.check(raw).lower()
    if not _EMAIL.match(email):
        raise DomainError(text("staff.email_invalid", raw=shown(raw, 60)), field=STAFF_EMAIL.key)
    return email


def _view(account: StaffAccount) -> StaffAccountView:
    return StaffAccountView(
        id=account.id, email=account.email, name=account.name, role=Role(account.role),
        telegram_id=account.telegram_id, totp_enabled=account.totp_enabled,
        has_password=account.password_hash is not None, disabled=account.disabled_at is not None,
        locked_until=account.locked_until, last_login_at=account.last_login_at, created_at=account.created_at,
    )


def _identity(account: StaffAccount) -> StaffIdentity:
    return StaffIdentity(
        id=account.id, name=account.name, email=account.email, role=Role(account.role),
        actor=console_actor(account.id), telegram_id=account.telegram_id,
    )


def _check_password(password: str, confirm: str, email: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise DomainError(text("staff.password_too_short", min=PASSWORD_MIN_LENGTH, got=len(password)))
    if len(password) > PASSWORD_MAX_LENGTH:
        raise DomainError(text("staff.password_too_long", max=PASSWORD_MAX_LENGTH))
    if password != confirm:
        raise DomainError(text("staff.password_mismatch"))
    local_part = email.split("@")[0]
    if len(local_part) >= 4 and local_part in password.lower():
        raise DomainError(text("staff.password_contains_email"))


def _totp_step(secret: str | None, code: str | None, *, now: datetime, after: int | None = None) -> int | None:
    """The time step the code belongs to (one step of clock drift either way), or None.

    A step at or before `after` (the last one accepted) is refused: a code is good once."""
    code = (code or "").strip().replace(" ", "")
    if not secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def _totp_reused(secret: str | None, code: str | None, *, now: datetime, after: int | None) -> bool:
    """The code is right for this moment but belongs to a step already accepted (`after`): a reuse, not a typo."""
    code = (code or "").strip().replace(" ", "")
    if not secret or after is None or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    return any(step <= after and hmac.compare_digest(totp.at(step * totp.interval), code)
               for step in (current - 1, current, current + 1))


class StaffAccountService:
    def __init__(self, *, uow: UnitOfWorkFactory, policy: ConsolePolicy, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._policy = policy
        self._clock = clock

    @property
    def policy(self) -> ConsolePolicy:
        return self._policy

    # -- accounts ------------------------------------------------------------------------------------
    async def add(self, *, email: str, name: str, role: Role | str, actor: AnyActor) -> SetupLink:
        actor = (await authorize(self._uow, self._clock, actor, Action.STAFF_ADMIN)).actor
        email = _normalise_email(email)
        name = STAFF_NAME.check(name)
        role = role if isinstance(role, Role) else parse_role(role)
        now = self._clock()
        token = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            existing = await uow.session.scalar(select(StaffAccount).where(StaffAccount.email == email))
            if existing is not None:
                # Say what to do instead: the account is there; its owner needs a new link (or enabling).
                key = "staff.email_taken_disabled" if existing.disabled_at is not None else "staff.email_taken"
                raise DomainError(text(key, email=email, id=existing.id, name=existing.name), code="email_taken")
            account = StaffAccount(
                email=email, name=name, role=role.value, totp_secret=pyotp.random_base32(), totp_enabled=False,
                setup_token_hash=hash_token(token), setup_expires_at=now + self._policy.setup_link_valid,
                failed_logins=0, created_at=now, updated_at=now,
            )
            uow.session.add(account)
            await uow.flush()
            audit(uow, at=now, actor=actor, action="staff.add", subject=f"staff_account:{account.id}",
                  email=email, role=role.value)
            await uow.commit()
            return self._link(account, token)

    async def reissue_setup(self, *, ref: str, actor: AnyActor) -> SetupLink:
        """A new one-time link (forgotten password, lost authenticator); the old password stops working."""
        actor = (await authorize(self._uow, self._clock, actor, Action.STAFF_ADMIN)).actor
        now = self._clock()
        token = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            account = await self._find(uow, ref)
            account.password_hash = None
            account.totp_enabled = False
            account.totp_secret = pyotp.random_base32()
            account.setup_token_hash = hash_token(token)
            account.setup_expires_at = now + self._policy.setup_link_valid
            account.updated_at = now
            await self._end_sessions(uow, account.id, now)
            audit(uow, at=now, actor=actor, action="staff.reissue_setup", subject=f"staff_account:{account.id}")
            await uow.commit()
            return self._link(account, token)

    def _link(self, account: StaffAccount, token: str) -> SetupLink:
        return SetupLink(account=_view(account), url=f"{self._policy.base_url}/setup/{token}", token=token,
                         expires_at=account.setup_expires_at)

    async def list(self, *, staff: AnyActor) -> list[StaffAccountView]:
        await authorize(self._uow, self._clock, staff, Action.STAFF_ADMIN)
        async with self._uow() as uow:
            rows = (await uow.session.scalars(select(StaffAccount).order_by(StaffAccount.id))).all()
            return [_view(a) for a in rows]

    async def get(self, *, account_id: int, staff: AnyActor) -> StaffAccountView:
        await authorize(self._uow, self._clock, staff, Action.STAFF_ADMIN, subject=f"staff_account:{account_id}")
        async with self._uow() as uow:
            return _view(await self._find(uow, str(account_id)))

    async def disable(self, *, ref: str, actor: AnyActor) -> StaffAccountView:
        actor = (await authorize(self._uow, self._clock, actor, Action.STAFF_ADMIN)).actor
        now = self._clock()
        async with self._uow() as uow:
            account = await self._find(uow, ref)
            if actor == console_actor(account.id):
                raise DomainError(text("staff.cannot_disable_self"))
            account.disabled_at = account.disabled_at or now
            account.updated_at = now
            await self._end_sessions(uow, account.id, now)
            audit(uow, at=now, actor=actor, action="staff.disable", subject=f"staff_account:{account.id}")
            await uow.commit()
            return _view(account)

    async def enable(self, *, ref: str, actor: AnyActor) -> StaffAccountView:
        actor = (await authorize(self._uow, self._clock, actor, Action.STAFF_ADMIN)).actor
        now = self._clock()
        async with self._uow() as uow:
            account = await self._find(uow, ref)
            account.disabled_at = None
            account.failed_logins = 0
            account.locked_until = None
            account.updated_at = now
            audit(uow, at=now, actor=actor, action="staff.enable", subject=f"staff_account:{account.id}")
            await uow.commit()
            return _view(account)

    async def change_role(self, *, ref: str, role: Role | str, actor: AnyActor) -> StaffAccountView:
        actor = (await authorize(self._uow, self._clock, actor, Action.STAFF_ADMIN)).actor
        role = role if isinstance(role, Role) else parse_role(role)
        now = self._clock()
        async with self._uow() as uow:
            account = await self._find(uow, ref)
            before = account.role
            account.role = role.value
            account.updated_at = now
            # An admin without a second factor would be a hole: they set it up again through a link.
            await self._end_sessions(uow, account.id, now)
            audit(uow, at=now, actor=actor, action="staff.role", subject=f"staff_account:{account.id}",
                  before=before, after=role.value)
            await uow.commit()
            return _view(account)

    async def link_telegram(self, *, ref: str, telegram_id: int | None, actor: AnyActor) -> StaffAccountView:
        actor = (await authorize(self._uow, self._clock, actor, Action.STAFF_ADMIN)).actor
        if telegram_id is not None and not MIN_BIGINT <= telegram_id <= MAX_BIGINT:
            raise DomainError(text("staff.telegram_id_out_of_range", value=shown(telegram_id)), field="telegram_id")
        now = self._clock()
        async with self._uow() as uow:
            account = await self._find(uow, ref)
            if telegram_id is not None:
                other = await uow.session.scalar(select(StaffAccount).where(
                    StaffAccount.telegram_id == telegram_id, StaffAccount.id != account.id))
                if other is not None:
                    raise DomainError(text("staff.telegram_taken", telegram_id=telegram_id, name=other.name))
            account.telegram_id = telegram_id
            account.updated_at = now
            audit(uow, at=now, actor=actor, action="staff.link_telegram", subject=f"staff_account:{account.id}",
                  telegram_id=telegram_id)
            await uow.commit()
            return _view(account)

    async def actor_names(self) -> dict[str, str]:
        """Every actor string a staff member appears under (console and chat) → their name."""
        async with self._uow() as uow:
            rows = (await uow.session.execute(select(StaffAccount.id, StaffAccount.name, StaffAccount.telegram_id))).all()
        names: dict[str, str] = {}
        for account_id, name, telegram_id in rows:
            names[console_actor(account_id)] = name
            if telegram_id is not None:
                names[chat_actor(telegram_id)] = name
        return names

    async def actors_of(self, *, name_or_email: str) -> list[str]:
        """The actor strings of the accounts whose name or e-mail contains the text (for audit search)."""
        needle = f"%{name_or_email.strip().lower()}%"
        async with self._uow() as uow:
            rows = (await uow.session.execute(select(StaffAccount.id, StaffAccount.telegram_id).where(
                func.lower(StaffAccount.name).like(needle) | func.lower(StaffAccount.email).like(needle)))).all()
        actors = []
        for account_id, telegram_id in rows:
            actors.append(console_actor(account_id))
            if telegram_id is not None:
                actors.append(chat_actor(telegram_id))
        return actors

    # -- set-up ------------------------------------------------------------------------------------
    async def setup_info(self, *, token: str) -> SetupInfo:
        async with self._uow() as uow:
            account = await self._by_setup_token(uow, token)
            secret = account.totp_secret
            return SetupInfo(
                email=account.email, name=account.name, role=Role(account.role), totp_secret=secret,
                totp_uri=pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name="innoeng"),
                totp_required=Role(account.role) is Role.ADMIN,
            )

    async def complete_setup(self, *, token: str, password: str, confirm: str, enable_totp: bool = False,
                             totp_code: str | None = None) -> StaffAccountView:
        async with self._uow() as uow:
            account = await self._by_setup_token(uow, token)
            _check_password(password, confirm, account.email)
            wants_totp = enable_totp or Role(account.role) is Role.ADMIN
            totp_step = _totp_step(account.totp_secret, totp_code, now=self._clock()) if wants_totp else None
            if wants_totp and totp_step is None:
                raise DomainError(text("staff.totp_required_for_admin" if not (totp_code or "").strip()
                                       and Role(account.role) is Role.ADMIN else "staff.totp_invalid"))
        password_hash = await asyncio.to_thread(_HASHER.hash, password)
        now = self._clock()
        async with self._uow() as uow:
            account = await self._by_setup_token(uow, token)
            account.password_hash = password_hash
            account.totp_enabled = wants_totp
            account.totp_last_step = totp_step
            account.setup_token_hash = None
            account.setup_expires_at = None
            account.failed_logins = 0
            account.locked_until = None
            account.updated_at = now
            audit(uow, at=now, actor=console_actor(account.id), action="staff.setup",
                  subject=f"staff_account:{account.id}", totp=wants_totp)
            await uow.commit()
            return _view(account)

    async def _by_setup_token(self, uow: UnitOfWork, token: str) -> StaffAccount:
        account = await uow.session.scalar(select(StaffAccount).where(StaffAccount.setup_token_hash == hash_token(token)))
        if account is None or account.disabled_at is not None or account.setup_expires_at is None \
                or account.setup_expires_at <= self._clock():
            raise NotFound(text("staff.setup_link_invalid"))
        return account

    # -- login and sessions -------------------------------------------------------------------------
    async def log_in(self, *, email: str, password: str, totp_code: str | None = None, ip: str | None = None,
                     user_agent: str | None = None) -> OpenSession:
        """Checks the password (and TOTP), records the attempt, locks after repeated failures.

        Refusals raise LoginRefused with a message that never says whether the e-mail exists.
        """
        email = (email or "").strip().lower()[:254]
        now = self._clock()
        policy = self._policy
        async with self._uow() as uow:
            address_failures = 0
            if ip:
                address_failures = await uow.session.scalar(select(func.count()).select_from(StaffLoginAttempt).where(
                    StaffLoginAttempt.ip == ip, StaffLoginAttempt.succeeded.is_(False),
                    StaffLoginAttempt.at > now - policy.address_window)) or 0
            account = await uow.session.scalar(select(StaffAccount).where(StaffAccount.email == email))
            account_id = account.id if account is not None else None
            stored_hash = account.password_hash if account is not None else None
            disabled = account is not None and account.disabled_at is not None
            role = Role(account.role) if account is not None else None
            totp_enabled, totp_secret, totp_last_step = (
                (account.totp_enabled, account.totp_secret, account.totp_last_step) if account is not None
                else (False, None, None))
            locked = account is not None and account.locked_until is not None and account.locked_until > now
            if account is None:
                recent = await uow.session.scalar(select(func.count()).select_from(StaffLoginAttempt).where(
                    StaffLoginAttempt.email == email, StaffLoginAttempt.succeeded.is_(False),
                    StaffLoginAttempt.at > now - policy.lockout)) or 0
                locked = recent >= policy.max_failed_logins
        if address_failures >= policy.max_failures_per_address:
            await self._refuse(email, ip, "address_throttled", account_id=None)
            raise LoginRefused(text("staff.login_throttled", minutes=_minutes(policy.address_window)),
                               code="address_throttled")
        if locked:
            await self._refuse(email, ip, "locked", account_id=None)
            raise LoginRefused(text("staff.login_locked", minutes=_minutes(policy.lockout)), code="locked")
        password_ok = await asyncio.to_thread(_verify, stored_hash or _dummy_hash(), password or "")
        if not password_ok or account_id is None or stored_hash is None or disabled:
            await self._refuse(email, ip, "bad_password", account_id=account_id)
            raise LoginRefused(text("staff.login_failed"), code="bad_password")
        if role is Role.ADMIN and not totp_enabled:
            # Promoted without a second factor: the account must go through a set-up link first.
            await self._refuse(email, ip, "admin_without_totp", account_id=None)
            raise LoginRefused(text("staff.admin_needs_totp_setup"), code="admin_without_totp")
        totp_step = _totp_step(totp_secret, totp_code, now=now, after=totp_last_step) if totp_enabled else None
        if totp_enabled and totp_step is None:
            code = "totp_missing" if not (totp_code or "").strip() else "totp_invalid"
            reused = code == "totp_invalid" and _totp_reused(totp_secret, totp_code, now=now, after=totp_last_step)
            # A missing code is the normal second step of the form, not a failure that counts toward a lock.
            await self._refuse(email, ip, "totp_reused" if reused else code,
                               account_id=account_id if code == "totp_invalid" else None)
            message = "staff.totp_needed" if code == "totp_missing" else "staff.totp_reused" if reused else "staff.totp_invalid"
            # A reused code keeps the code step of the form (code totp_invalid); the message says to wait.
            raise LoginRefused(text(message), code=code)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            account = await uow.session.get(StaffAccount, account_id)
            if totp_step is not None:
                if account.totp_last_step is not None and totp_step <= account.totp_last_step:
                    raise LoginRefused(text("staff.totp_reused"), code="totp_invalid")  # a concurrent replay
                account.totp_last_step = totp_step
            account.failed_logins = 0
            account.locked_until = None
            account.last_login_at = now
            session = StaffSession(
                id=hash_token(token), account_id=account.id, csrf_token=csrf, created_at=now, last_seen_at=now,
                expires_at=now + policy.session_absolute, ip=ip, user_agent=(user_agent or "")[:255] or None,
            )
            uow.session.add(session)
            uow.session.add(StaffLoginAttempt(at=now, email=email, ip=ip, succeeded=True, reason=None))
            audit(uow, at=now, actor=console_actor(account.id), action="staff.login",
                  subject=f"staff_account:{account.id}", ip=ip)
            await uow.commit()
            return OpenSession(token=token, csrf_token=csrf, identity=_identity(account), expires_at=session.expires_at)

    async def _refuse(self, email: str, ip: str | None, reason: str, *, account_id: int | None) -> None:
        """Records a refused attempt; `account_id` set means it counts toward that account's lock."""
        now = self._clock()
        async with self._uow() as uow:
            uow.session.add(StaffLoginAttempt(at=now, email=email, ip=ip, succeeded=False, reason=reason))
            subject = f"staff_account:{account_id}" if account_id else f"login:{email}"[:64]
            audit(uow, at=now, actor=f"login:{ip or 'unknown'}"[:64], action="staff.login_refused", subject=subject,
                  reason=reason, email=email)
            if account_id is not None:
                account = await uow.session.get(StaffAccount, account_id)
                account.failed_logins += 1
                if account.failed_logins >= self._policy.max_failed_logins:
                    account.locked_until = now + self._policy.lockout
                    account.failed_logins = 0
                    audit(uow, at=now, actor="system", action="staff.locked", subject=f"staff_account:{account_id}",
                          until=account.locked_until.isoformat(), ip=ip)
            await uow.commit()

    async def resolve_session(self, *, token: str) -> ConsoleSession | None:
        """The staff member behind a session cookie, or None when it is unknown, ended, idle or expired."""
        if not token:
            return None
        now = self._clock()
        async with self._uow() as uow:
            row = (await uow.session.execute(
                select(StaffSession, StaffAccount).join(StaffAccount, StaffAccount.id == StaffSession.account_id)
                .where(StaffSession.id == hash_token(token)))).first()
            if row is None:
                return None
            session, account = row
            if session.ended_at is not None or account.disabled_at is not None or session.expires_at <= now \
                    or session.last_seen_at + self._policy.session_idle <= now:
                if session.ended_at is None:
                    session.ended_at = now
                    await uow.commit()
                return None
            # Touch at most once a minute: a page with many requests should not write on each one.
            if now - session.last_seen_at > timedelta(seconds=60):
                session.last_seen_at = now
                await uow.commit()
            return ConsoleSession(identity=_identity(account), csrf_token=session.csrf_token)

    async def log_out(self, *, token: str) -> None:
        now = self._clock()
        async with self._uow() as uow:
            session = await uow.session.get(StaffSession, hash_token(token))
            if session is None or session.ended_at is not None:
                return
            session.ended_at = now
            audit(uow, at=now, actor=console_actor(session.account_id), action="staff.logout",
                  subject=f"staff_account:{session.account_id}")
            await uow.commit()

    @staticmethod
    async def _end_sessions(uow: UnitOfWork, account_id: int, now: datetime) -> None:
        await uow.session.execute(update(StaffSession).where(
            StaffSession.account_id == account_id, StaffSession.ended_at.is_(None)).values(ended_at=now))

    @staticmethod
    async def _find(uow: UnitOfWork, ref: str) -> StaffAccount:
        ref = str(ref).strip()
        account = None
        number = parse_int(ref)
        if number is not None and id_in_range(number):
            account = await uow.session.get(StaffAccount, number)
        if account is None:
            account = await uow.session.scalar(select(StaffAccount).where(StaffAccount.email == ref.lower()))
        if account is None:
            raise NotFound(text("staff.not_found", ref=ref))
        return account


async def actor_name(uow: UnitOfWork, actor: str) -> str:
    """The staff member's name behind an audit actor (console:ID or staff:TELEGRAM_ID); else the actor as written."""
    number = actor.partition(":")[2]
    if not number.isdigit():
        return actor
    if actor == console_actor(int(number)):
        name = await uow.session.scalar(select(StaffAccount.name).where(StaffAccount.id == int(number)))
    elif actor == chat_actor(int(number)):
        name = await uow.session.scalar(select(StaffAccount.name).where(StaffAccount.telegram_id == int(number)))
        # in STAFF_TELEGRAM_IDS, no console account linked
        name = name or text("staff.chat_actor", telegram_id=number)
    else:
        name = None
    return name or actor


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _minutes(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() // 60))
