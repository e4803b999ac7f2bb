"""The outbox worker: claims due rows, renders and sends them, records what happened.

Several lanes run in one worker, each with its own claim and its own SMTP connection, so one
slow message does not hold up the rest. Outcomes:

  sent       delivered (provider reply kept on the row)
  queued     transient failure: tried again after exponential backoff with jitter (growing to
             about an hour), or after Telegram's retry_after; failed once the row is older than
             the maximum age since its first attempt (retry by age, as mail servers do)
  failed     permanent (address refused, bot blocked, no address, no template), or out of retries
  unknown    the message may have arrived (connection lost after the content was sent, or the
             worker vanished with the attempt on record): never resent without a person
             deciding (`innoeng notify retry ID`)
  skipped    the notice no longer applies (draft submitted, event moved or cancelled)

An attempt is on record before the transport is called: rows are sent in chunks, and one
transaction per chunk writes the outcomes of the chunk before and the attempts of this one.
A worker killed at any point therefore leaves each of its rows either never attempted
(claimed again after the lease) or attempted (unknown after the lease), never "queued as if
nothing happened". What remains possible, and why it is accepted, is in README (Notifications).

Priority: rows are claimed most urgent first (outbox.priority, by kind: core.domain.outbox), and
besides the ordinary lanes a priority lane claims only urgent rows (sign-in codes) in small batches,
so a code goes out within seconds even while every other lane is busy with a batch of bulk mail.

SMS (channel 'sms'): the row's kind names an approved template (core.ports.sms), its address is the
mobile; per-number limits hold a row back in the queue (not attempted, not dropped) until it fits.

A channel that cannot deliver at all (Telegram: 401 or 404 on the bot token, API unreachable; SMS:
the provider refuses our key or signature) is paused: its rows stay queued, staff are alerted once,
and a worker tries one row again every probe interval until it works.

Wake-ups: PostgreSQL NOTIFY from the outbox trigger, `wake()` from the same process (the
scheduler), or the poll interval, whichever comes first.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jinja2

from core.services.notifications import FAILED, OUTBOX_CHANNEL, QUEUED, SENT, SKIPPED, UNKNOWN, NotificationService
from core.db.uow import UnitOfWorkFactory
from core.domain.outbox import URGENT
from core.ports.sms import SmsTemplateError
from core.texts import text
from notifier.composing import Composer, OutboxItem
from notifier.mail import DeliveryOutcome, DeliveryResult, Mailer
from notifier.outcome import Outcome, SendOutcome
from notifier.queue import ClaimedRow, OutboxQueue, RowUpdate, new_claim_token
from notifier.rate_limit import RateLimiter
from notifier.sms.channel import SmsChannel, SmsMessage
from notifier.telegram import TelegramTransport

__all__ = ["OutboxWorker", "RetryPolicy", "WorkerOptions", "postgres_listen_dsn"]

log = logging.getLogger(__name__)

# A rate-limit wait up to this long is slept through; longer, the row goes back to the queue.
_MAX_INLINE_WAIT_S = 1.5
# Attempts are put on record this many rows at a time, with the outcomes of the chunk before:
# one round trip per chunk. A worker killed mid-chunk leaves at most this many rows unknown.
_ATTEMPT_CHUNK_ROWS = 10
# SMS are few and each is something a person must not miss: their attempts go on record one row at a time,
# so a worker killed mid-send leaves only the SMS in hand unknown, and the others are simply sent again.
_ONE_AT_A_TIME = frozenset({"sms"})
# A slow chunk has the outcomes so far written after this long, so that fewer become unknown.
_RECORD_EVERY_S = 0.5
_LAPSABLE_KINDS = frozenset({
    "deadline_reminder", "workshop_invitation", "workshop_updated", "workshop_reminder", "match_answer_reminder",
    # SMS for what cannot wait: not once it no longer applies (answered, moved, cancelled, unsubscribed).
    "match_proposal_waiting", "match_deadline_tomorrow", "workshop_tomorrow",
})


@dataclass(frozen=True)
class RetryPolicy:
    """Transient failures are retried until the row is `max_age` past its first attempt, however
    many attempts that takes: an outage of hours delays mail, it does not lose it."""

    max_age: timedelta = timedelta(hours=72)
    base_s: float = 30.0
    max_s: float = 3600.0
    jitter: float = 0.2  # ± this fraction, so rows that failed together do not retry together
    # How often a worker tries a paused channel again.
    channel_probe_s: float = 300.0

    def delay_s(self, attempts: int, rng: random.Random) -> float:
        delay = min(self.max_s, self.base_s * (2 ** max(0, attempts - 1)))
        return delay * rng.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass(frozen=True)
class WorkerOptions:
    lanes: int = 4
    batch_size: int = 50
    # Lanes that claim only rows of at least `urgent_priority`, a few at a time (0: none).
    priority_lanes: int = 1
    priority_batch_size: int = 5
    urgent_priority: int = URGENT
    lease_s: float = 300.0
    poll_interval_s: float = 2.0


def postgres_listen_dsn(url) -> str | None:
    """A plain asyncpg DSN for LISTEN, from the SQLAlchemy URL; None when not PostgreSQL."""
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxWorker:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        notifications: NotificationService,
        composer: Composer,
        mailers: Sequence[Mailer],
        telegram: TelegramTransport | None = None,
        sms: SmsChannel | None = None,
        policy: RetryPolicy = RetryPolicy(),
        options: WorkerOptions = WorkerOptions(),
        smtp_limiter: RateLimiter | None = None,
        clock: Callable[[], datetime],
        listen_dsn: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not mailers:
            raise ValueError("at least one mailer is needed")
        self._queue = OutboxQueue(uow, clock=clock)
        self._notifications = notifications
        self._composer = composer
        self._mailers = list(mailers)
        self._telegram = telegram
        self._sms = sms
        self._policy = policy
        self._options = options
        self._smtp_limiter = smtp_limiter
        self._clock = clock
        self._listen_dsn = listen_dsn
        self._rng = rng or random.Random()
        self._wakers: list[asyncio.Event] = []
        # The channels this worker can deliver; rows of others wait for a worker that can.
        self.channels: tuple[str, ...] = (
            ("email",) + (("telegram",) if telegram is not None else ()) + (("sms",) if sms is not None else ())
        )
        self.processed = 0

    # ------------------------------------------------------------------ running

    def wake(self) -> None:
        for event in self._wakers:
            event.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Runs the lanes until `stop` is set; a lane finishes the row in hand, then hands back the rest."""
        options = self._options
        self._wakers = [asyncio.Event() for _ in range(options.lanes + options.priority_lanes)]
        listener = asyncio.create_task(self._listen(stop)) if self._listen_dsn else None
        lanes = [self._lane(i, stop) for i in range(options.lanes)]
        # A priority lane shares a mailer (its SMTP connection takes one message at a time, in turn).
        lanes += [
            self._lane(options.lanes + i, stop, mailer_index=i, min_priority=options.urgent_priority,
                       batch_size=options.priority_batch_size)
            for i in range(options.priority_lanes)
        ]
        try:
            await asyncio.gather(*lanes)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _lane(self, index: int, stop: asyncio.Event, *, mailer_index: int | None = None,
                    min_priority: int | None = None, batch_size: int | None = None) -> None:
        waker = self._wakers[index]
        mailer = self._mailers[(index if mailer_index is None else mailer_index) % len(self._mailers)]
        batch_size = batch_size or self._options.batch_size
        while not stop.is_set():
            waker.clear()
            try:
                handled = await self.process_batch(mailer=mailer, stop=stop, min_priority=min_priority,
                                                   batch_size=batch_size)
            except Exception:  # the database went away, a bug: log, back off, keep the worker alive
                log.exception("outbox lane %s failed; retrying after the poll interval", index)
                handled = 0
            if handled >= batch_size:
                continue
            await _wait_any(stop, waker, timeout=self._options.poll_interval_s)

    async def drain(self, *, max_batches: int = 1000) -> int:
        """Processes everything due now on one lane (tests, CLI); returns how many rows were handled."""
        total = 0
        for _ in range(max_batches):
            handled = await self.process_batch(mailer=self._mailers[0])
            total += handled
            if handled == 0:
                break
        return total

    async def _listen(self, stop: asyncio.Event) -> None:
        import asyncpg  # only PostgreSQL deployments need it

        while not stop.is_set():
            connection = None
            try:
                connection = await asyncpg.connect(self._listen_dsn, timeout=10)
                await connection.add_listener(OUTBOX_CHANNEL, lambda *_: self.wake())
                log.info("listening for outbox notifications")
                # Anything queued while we were not listening is picked up by the next poll anyway.
                while not stop.is_set() and not connection.is_closed():
                    await _wait_any(stop, asyncio.Event(), timeout=5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # polling keeps things moving while LISTEN is down
                log.warning("outbox LISTEN connection failed (%s); polling until it is back", exc)
                await _wait_any(stop, asyncio.Event(), timeout=5)
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close()

    # ------------------------------------------------------------------ one batch

    async def process_batch(self, *, mailer: Mailer | None = None, stop: asyncio.Event | None = None,
                            min_priority: int | None = None, batch_size: int | None = None) -> int:
        """One claim, sent and recorded. `min_priority`: only rows at least that urgent (a priority lane)."""
        mailer = mailer or self._mailers[0]
        token = new_claim_token()
        options = self._options
        claim = await self._queue.claim(
            limit=batch_size or options.batch_size, lease_s=options.lease_s, token=token, channels=self.channels,
            probe_interval_s=self._policy.channel_probe_s, min_priority=min_priority,
        )
        if not claim:
            return 0
        rows = claim.rows
        probing = set(claim.probing)
        paused: dict[str, SendOutcome] = {}  # channels found down during this batch
        pending: list[RowUpdate] = []  # outcomes not yet written
        remaining = {row.id for row in rows}  # claimed, no outcome yet
        in_hand: int | None = None
        last_record = last_renew = time.monotonic()
        try:
            for chunk in _attempt_chunks(rows):
                if stop is not None and stop.is_set():
                    break
                if time.monotonic() - last_renew > options.lease_s / 3:
                    await self._queue.renew(token=token, ids=remaining, lease_s=options.lease_s)
                    last_renew = time.monotonic()
                ready: list[tuple[ClaimedRow, Any]] = []
                for row in chunk:
                    prepared = await self._prepare(row)
                    if isinstance(prepared, SendOutcome):
                        pending.append(self._next_state(row, prepared))
                        remaining.discard(row.id)
                    else:
                        ready.append((row, prepared))
                held = await self._queue.begin_attempts(token=token, ids=[r.id for r, _ in ready], outcomes=pending)
                pending, last_record = [], time.monotonic()
                for row, message in ready:
                    if row.id not in held:  # another worker took it over: not ours to send
                        remaining.discard(row.id)
                        continue
                    if stop is not None and stop.is_set():
                        break
                    if row.channel in paused:
                        outcome = paused[row.channel]
                    else:
                        in_hand = row.id
                        outcome = await self._transmit(row, message, mailer)
                        in_hand = None
                    # The outcome is kept before anything else can fail: a sent row must never be
                    # handed back as untouched.
                    pending.append(self._next_state(row, outcome))
                    remaining.discard(row.id)
                    self.processed += 1
                    if outcome.outcome is Outcome.CHANNEL_DOWN and row.channel not in paused:
                        paused[row.channel] = outcome
                        await self._notifications.pause_channel(
                            channel=row.channel, reason=outcome.reason,
                            probe_in=timedelta(seconds=self._policy.channel_probe_s),
                        )
                    elif row.channel in probing and outcome.outcome not in (Outcome.DEFERRED, Outcome.CHANNEL_DOWN):
                        # Any answer about the message itself (sent, 403 for this chat, ...) shows
                        # the channel works again.
                        probing.discard(row.channel)
                        await self._notifications.resume_channel(channel=row.channel, actor="notifier")
                    if time.monotonic() - last_record > _RECORD_EVERY_S:
                        await self._queue.record(pending)
                        pending, last_record = [], time.monotonic()
        finally:
            # Stopped or cancelled mid-batch: record what was done and hand back what was not
            # started (an attempt put on record but not begun is taken back). A row cancelled in
            # hand keeps its attempt on record: it may have gone out, so it becomes unknown.
            await asyncio.shield(self._finish(pending, token, remaining - {in_hand}))
        return len(rows)

    async def _finish(self, pending: list[RowUpdate], token: str, untouched: set[int]) -> None:
        await self._queue.record(pending)
        await self._queue.release(token=token, ids=untouched)

    async def _prepare(self, row: ClaimedRow) -> Any:
        """The message to send, or the outcome that makes sending unnecessary (nothing attempted)."""
        if not row.address:
            channel = {"email": "电子邮箱", "sms": "手机号"}.get(row.channel, "Telegram")
            return SendOutcome(Outcome.PERMANENT, text("notifier.no_address", channel=channel))
        if row.kind in _LAPSABLE_KINDS:
            reason = await self._notifications.lapsed_reason(kind=row.kind, payload=row.payload,
                                                             person_id=row.person_id)
            if reason:
                return SendOutcome(Outcome.SKIPPED, reason)
        item = OutboxItem(row.id, row.kind, row.channel, row.address, row.idempotency_key, row.payload,
                          person_id=row.person_id)
        try:
            if row.channel == "email":
                return self._composer.email(item)
            if row.channel == "telegram":
                return self._composer.telegram(item)
            if row.channel == "sms":
                return await self._prepare_sms(row, self._composer.sms_payload(item))
            return SendOutcome(Outcome.PERMANENT, f"未知的发送渠道「{row.channel}」")
        except jinja2.TemplateNotFound:
            return SendOutcome(Outcome.PERMANENT, text("notifier.unknown_kind", kind=row.kind))
        except (jinja2.TemplateError, KeyError, TypeError, ValueError) as exc:
            return SendOutcome(Outcome.PERMANENT, f"通知内容生成失败（{type(exc).__name__}: {exc}）")

    async def _prepare_sms(self, row: ClaimedRow, payload: dict[str, Any]) -> SmsMessage | SendOutcome:
        if self._sms is None:  # not claimed without one; a row handed over by hand waits
            return SendOutcome(Outcome.DEFERRED, "本进程未配置短信发送", retry_after=60)
        try:
            message = self._sms.compose(kind=row.kind, address=row.address, payload=payload)
        except SmsTemplateError as exc:
            return SendOutcome(Outcome.PERMANENT, str(exc))
        limits = self._sms.limits
        if limits.limits:
            now = self._clock()
            on_record = await self._queue.recent_sms_sends(address=row.address, since=now - limits.longest,
                                                           exclude_id=row.id)
            wait = limits.wait(message.phone, now=now, on_record=on_record)
            if wait > timedelta(0):
                return SendOutcome(Outcome.DEFERRED, "同一手机号发送过于频繁，稍后发送",
                                   retry_after=wait.total_seconds())
            limits.reserve(message.phone, row.id, now=now)
        return message

    async def _transmit(self, row: ClaimedRow, message: Any, mailer: Mailer) -> SendOutcome:
        if row.channel == "email":
            return await self._send_email(message, mailer)
        if row.channel == "sms":
            return await self._sms.send(message)
        if self._telegram is None:
            return SendOutcome(Outcome.DEFERRED, "本进程未配置 Telegram 机器人", retry_after=60)
        return await self._telegram.send(message)

    async def _send_email(self, spec, mailer: Mailer) -> SendOutcome:
        if self._smtp_limiter is not None:
            wait = self._smtp_limiter.try_acquire()
            while 0 < wait <= _MAX_INLINE_WAIT_S:
                await asyncio.sleep(wait)
                wait = self._smtp_limiter.try_acquire()
            if wait > 0:
                return SendOutcome(Outcome.DEFERRED, "已达到邮件服务器发送配额，稍后发送", retry_after=wait)
        result: DeliveryResult = await mailer.send(spec)
        outcome = {
            DeliveryOutcome.SENT: Outcome.SENT,
            DeliveryOutcome.TRANSIENT: Outcome.TRANSIENT,
            DeliveryOutcome.PERMANENT: Outcome.PERMANENT,
            DeliveryOutcome.UNKNOWN: Outcome.UNKNOWN,
        }[result.outcome]
        return SendOutcome(outcome, result.reason, provider_reply=result.server_reply)

    def _next_state(self, row: ClaimedRow, outcome: SendOutcome) -> RowUpdate:
        now = self._clock()
        attempts = row.attempts + (1 if outcome.attempted else 0)
        give_up_at = row.give_up_at
        if outcome.attempted and give_up_at is None:
            give_up_at = now + self._policy.max_age

        def state(status: str, *, due_at: datetime | None = None, error: str | None = None,
                  sent_at: datetime | None = None) -> RowUpdate:
            return RowUpdate(
                id=row.id, claim_token=row.claim_token, status=status, attempts=attempts,
                due_at=due_at or row.due_at, last_error=error, provider_reply=outcome.provider_reply,
                sent_at=sent_at, last_attempt_at=now if outcome.attempted else None, give_up_at=give_up_at,
            )

        match outcome.outcome:
            case Outcome.SENT:
                return state(SENT, sent_at=now)
            case Outcome.SKIPPED:
                return state(SKIPPED, error=outcome.reason)
            case Outcome.PERMANENT:
                return state(FAILED, error=outcome.reason)
            case Outcome.UNKNOWN:
                return state(UNKNOWN, error=outcome.reason)
            case Outcome.DEFERRED:
                return state(QUEUED, due_at=now + timedelta(seconds=outcome.retry_after or 1), error=outcome.reason)
            case Outcome.CHANNEL_DOWN:
                probe = now + timedelta(seconds=self._policy.channel_probe_s)
                return state(QUEUED, due_at=probe, error=text("notifier.channel_paused", reason=outcome.reason))
            case Outcome.TRANSIENT:
                if give_up_at is not None and now >= give_up_at:
                    return state(FAILED, error=text("notifier.gave_up", reason=outcome.reason, attempts=attempts,
                                                    hours=f"{self._policy.max_age.total_seconds() / 3600:g}"))
                delay = outcome.retry_after if outcome.retry_after else self._policy.delay_s(attempts, self._rng)
                # The last try falls on the deadline itself rather than being skipped past it.
                due = min(now + timedelta(seconds=delay), give_up_at) if give_up_at else now + timedelta(seconds=delay)
                return state(QUEUED, due_at=due, error=outcome.reason)
        raise AssertionError(outcome)


async def _wait_any(stop: asyncio.Event, waker: asyncio.Event, *, timeout: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(waker.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def _attempt_chunks(rows: list) -> list[list]:
    """The claimed rows in the groups whose attempts go on record together: up to _ATTEMPT_CHUNK_ROWS rows,
    except that a row of a channel in _ONE_AT_A_TIME is a group of its own."""
    chunks: list[list] = []
    chunk: list = []
    for row in rows:
        if row.channel in _ONE_AT_A_TIME:
            if chunk:
                chunks.append(chunk)
                chunk = []
            chunks.append([row])
            continue
        chunk.append(row)
        if len(chunk) == _ATTEMPT_CHUNK_ROWS:
            chunks.append(chunk)
            chunk = []
    if chunk:
        chunks.append(chunk)
    return chunks
