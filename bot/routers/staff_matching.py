"""Staff running two-way matching from the chat: run and confirm, publicity, objections, agreements, filing."""
from __future__ import annotations

import asyncio
import logging
import shlex

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import ConfirmRun
from bot.filters import IsStaff, staff_action
from core.bootstrap import Core
from core.domain import DomainError
from core.domain.appointments import AppointmentStatus
from core.domain.permissions import Action, AnyActor, StaffActor, internal
from core.forms.normalize import parse_date
from core.services import PersonView
from core.services.matching_jobs import JobState
from core.texts import text

log = logging.getLogger(__name__)

COMMANDS = ("match", "publicity", "objection", "agreement", "filing", "filingexport", "caplift")
USAGE = {
    "publicity": "/publicity start 聘任编号 [聘任编号…] [开始日期，如 2026-12-07；默认次一工作日]",
    "objection": "/objection 聘任编号 成立|不成立|待查 说明",
    "agreement": "/agreement 聘任编号 签订日期 聘期年数 学时 单位同意 授课内容",
    "filing": "/filing 聘任编号 备案日期 [备注]",
    "caplift": "/caplift 专家申请编号 上限 理由",
}
_SHOWN_PROPOSALS = 30


def _args(command: CommandObject) -> list[str]:
    try:
        return shlex.split(command.args or "")
    except ValueError:
        return (command.args or "").split()


class MatchBatch(CallbackData, prefix="mb"):
    """Staff picked the batch to run matching on (step 1 of /match)."""

    batch: int


class StartRun(CallbackData, prefix="mr"):
    """Staff confirmed (go) or cancelled the run they were shown (step 2 of /match)."""

    batch: int
    go: bool


class ShowPairs(CallbackData, prefix="mps"):
    run: int


class PairAction(CallbackData, prefix="mp"):
    """Confirm, hold or release one proposed pair of a run."""

    run: int
    proposal: int
    action: str  # confirm | hold | release


PAIR_ACTIONS = ("confirm", "hold", "release")
_SHOWN_BATCHES = 10


async def match(message: Message, core: Core) -> None:
    """Step 1: which batch. Nothing runs until staff have seen what the run would take and said go."""
    batches = (await core.batches.list())[-_SHOWN_BATCHES:]
    if not batches:
        await message.answer(text("batch.none_open"))
        return
    zone = core.settings.zone
    rows = [[InlineKeyboardButton(
        text=text("match.staff.batch_button", name=b.name, closes=b.registration_closes_at.astimezone(zone).date().isoformat()),
        callback_data=MatchBatch(batch=b.id).pack(),
    )] for b in reversed(batches)]
    await message.answer(text("match.staff.choose_batch"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def choose_batch(callback: CallbackQuery, callback_data: MatchBatch, core: Core, staff_actor: StaffActor) -> None:
    try:
        preview = await core.matching.preview(batch_id=callback_data.batch, staff=staff_actor)
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer()
    await _drop_buttons(callback)
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=text("match.staff.run_button"), callback_data=StartRun(batch=preview.batch_id, go=True).pack()),
        InlineKeyboardButton(text=text("match.staff.run_cancel_button"),
                             callback_data=StartRun(batch=preview.batch_id, go=False).pack()),
    ]])
    await callback.message.answer(text(
        "match.staff.run_prompt", batch=preview.batch_name, experts=preview.experts, universities=preview.universities,
        demands=preview.demands, slots=preview.slots), reply_markup=markup)


async def start_run(callback: CallbackQuery, callback_data: StartRun, core: Core, staff_actor: StaffActor) -> None:
    """Step 3: asks for the run (a queued job a worker solves) and answers at once: the chat's queue (and a
    webhook's request) is not held for the solve. The outcome is posted here when the job finishes
    (report_matching_runs), whichever bot process is running then."""
    await callback.answer()
    await _drop_buttons(callback)
    if not callback_data.go:
        await callback.message.answer(text("match.staff.run_cancelled"))
        return
    try:
        job = await core.matching.request_run(batch_id=callback_data.batch, staff=staff_actor,
                                              reply_chat=callback.message.chat.id)
    except DomainError as error:
        await callback.message.answer(error.message)
        return
    await callback.message.answer(text("match.staff.run_queued", batch=job.batch_name, job=job.id[:8]))


# How often a bot process looks for finished runs to post (a read of a few rows).
REPORT_INTERVAL_S = 1.0


async def report_matching_runs(core: Core, bot: Bot, stop: asyncio.Event, *,
                               interval_s: float = REPORT_INTERVAL_S) -> None:
    """Posts each finished run asked for from a chat to that chat, once, until `stop` is set. Every bot
    process runs it; a job's report is claimed in the database, so one process posts it. A job that finished
    while no bot ran is posted when one starts."""
    jobs = core.matching.jobs
    while not stop.is_set():
        try:
            for job in await jobs.claim_reports():
                try:
                    await _report(bot, core, job)
                except Exception:
                    log.warning("matching job %s: could not post its outcome; trying again", job.id, exc_info=True)
                    await jobs.unreport(job_id=job.id)
        except Exception:  # the database went away for a moment: look again later
            log.warning("could not look for finished matching runs", exc_info=True)
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except asyncio.TimeoutError:
            pass


async def _report(bot: Bot, core: Core, job) -> None:
    if job.state is JobState.DONE:
        # A job of this process posting what the staff member asked for (and was authorised for) when asking.
        reader = internal(job.staff)
        await _send_run(bot, job.reply_chat, await core.matching.get(run_id=job.run_id, staff=reader), core, reader)
    else:
        await bot.send_message(job.reply_chat, text("match.staff.run_failed", batch=job.batch_name, job=job.id[:8],
                                                     reason=job.error or ""))


async def _send_run(bot: Bot, chat_id: int, run, core: Core, staff: AnyActor) -> None:
    lines = [text("match.staff.run_summary", id=run.id, status=run.solver_status, filled=run.filled, need=run.total_need,
                  score=run.score, gap=run.gap, time=run.time_s)]
    for slot in run.unfilled:
        lines.append(text("match.staff.unfilled", university=slot.get("university_name") or slot.get("university"),
                          course=slot.get("course") or slot.get("demand"), missing=slot.get("missing"),
                          why=slot.get("explanation")))
    for proposal in run.proposals[:_SHOWN_PROPOSALS]:
        mark = text("match.staff.kept_mark") if proposal.fixed else (text("match.staff.held_mark") if proposal.held else "")
        lines.append(text("match.staff.proposal", id=proposal.number, university=proposal.university_name,
                          course=proposal.course, expert=proposal.expert_name, employer=proposal.employer,
                          score=proposal.score, fixed=mark))
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=text("match.staff.confirm_button"), callback_data=ConfirmRun(run=run.id).pack())],
        [InlineKeyboardButton(text=text("match.staff.pairs_button"), callback_data=ShowPairs(run=run.id).pack())],
    ])
    await bot.send_message(chat_id, "\n".join(lines)[:4000], reply_markup=markup)
    from core.exports import run_workbook  # loaded when staff first export, not with the bot

    await bot.send_document(chat_id, BufferedInputFile(
        run_workbook(run, kept=await core.appointments.kept_by(run=run, staff=staff)), filename=f"match-run-{run.id}.xlsx"))


async def confirm(callback: CallbackQuery, callback_data: ConfirmRun, core: Core, staff_actor: StaffActor) -> None:
    try:
        before = await core.matching.get(run_id=callback_data.run, staff=staff_actor)
        run = await core.matching.confirm(run_id=callback_data.run, staff=staff_actor)
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer()
    await _drop_buttons(callback)
    count = sum(1 for p in run.proposals if p.appointment_id) - sum(1 for p in before.proposals if p.appointment_id)
    reply = text("match.staff.confirmed", id=run.id, count=count) if count else text("match.staff.nothing_new")
    held = sum(1 for p in run.proposals if p.held and not p.appointment_id)
    if held:
        reply += text("match.staff.held_left_out", held=held)
    await callback.message.answer(reply)


def _pair_card(run_id: int, proposal) -> tuple[str, InlineKeyboardMarkup | None]:
    if proposal.appointment_id:
        state = text("match.staff.pair_state_confirmed", appointment=proposal.appointment_id)
    elif proposal.held:
        state = text("match.staff.pair_state_held")
    else:
        state = ""
    card = text("match.staff.pair_card", run=run_id, number=proposal.number, university=proposal.university_name,
                course=proposal.course, expert=proposal.expert_name, employer=proposal.employer, score=proposal.score,
                explanation=proposal.explanation, state=state)
    if proposal.appointment_id or proposal.fixed:
        return card[:4000], None
    second = ("release", "match.staff.pair_release_button") if proposal.held else ("hold", "match.staff.pair_hold_button")
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=text("match.staff.pair_confirm_button"),
                             callback_data=PairAction(run=run_id, proposal=proposal.id, action="confirm").pack()),
        InlineKeyboardButton(text=text(second[1]),
                             callback_data=PairAction(run=run_id, proposal=proposal.id, action=second[0]).pack()),
    ]])
    return card[:4000], markup


async def show_pairs(callback: CallbackQuery, callback_data: ShowPairs, core: Core, staff_actor: StaffActor) -> None:
    try:
        run = await core.matching.get(run_id=callback_data.run, staff=staff_actor)
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer()
    open_pairs = [p for p in run.proposals if not p.fixed and not p.appointment_id]
    if not open_pairs:
        await callback.message.answer(text("match.staff.pairs_none"))
        return
    for proposal in open_pairs[:_SHOWN_PROPOSALS]:
        card, markup = _pair_card(run.id, proposal)
        await callback.message.answer(card, reply_markup=markup)


async def pair_action(callback: CallbackQuery, callback_data: PairAction, core: Core, staff_actor: StaffActor) -> None:
    if callback_data.action not in PAIR_ACTIONS:
        await callback.answer(text("match.staff.unknown_action"), show_alert=True)
        return
    staff = staff_actor
    try:
        if callback_data.action == "confirm":
            run = await core.matching.confirm(run_id=callback_data.run, staff=staff, proposal_ids=[callback_data.proposal])
        else:
            run = await core.matching.hold(run_id=callback_data.run, staff=staff, proposal_ids=[callback_data.proposal],
                                           release=callback_data.action == "release")
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer()
    proposal = next(p for p in run.proposals if p.id == callback_data.proposal)
    card, markup = _pair_card(run.id, proposal)
    try:
        await callback.message.edit_text(card, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in str(error):
            raise
    key = {"confirm": "match.staff.pair_confirmed", "hold": "match.staff.pair_held", "release": "match.staff.pair_released"}
    await callback.message.answer(text(key[callback_data.action], run=run.id, number=proposal.number,
                                       appointment=proposal.appointment_id))


async def _drop_buttons(callback: CallbackQuery) -> None:
    try:
        await callback.message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as error:
        # A second tap on a button already removed: the message is as wanted.
        if "message is not modified" not in str(error):
            raise


async def publicity(message: Message, command: CommandObject, bot: Bot, core: Core, staff_actor: StaffActor) -> None:
    """/publicity: the pairs awaiting publicity, then those in publicity (text and xlsx).
    /publicity start ID… [DATE]: staff start the publicity of accepted pairs (公示 is the branch's decision)."""
    args = _args(command)
    if args:
        if args[0] not in ("start", "开始"):
            await message.answer(text("match.staff.usage", usage=USAGE["publicity"]))
            return
        await _start_publicity(message, core, staff_actor, args[1:])
        return
    awaiting = await core.appointments.list(statuses=[AppointmentStatus.ACCEPTED], staff=staff_actor)
    listed = await core.appointments.list(statuses=[AppointmentStatus.PUBLICITY], staff=staff_actor)
    if not listed and not awaiting:
        await message.answer(text("match.staff.publicity_empty"))
        return
    if awaiting:
        period = core.appointments.publicity_preview()
        lines = [text("match.staff.publicity_awaiting_header", count=len(awaiting), start=period.starts_on,
                      end=period.ends_on, days=period.working_days)]
        lines += [text("match.staff.publicity_awaiting_line", id=a.id, university=a.university_name, course=a.course,
                       expert=a.expert_name, employer=a.employer) for a in awaiting]
        # Every pair is listed: a long list goes as several messages (bot.factory.LongMessages).
        await message.answer("\n\n".join(["\n".join(lines), *period.warnings]))
    if listed:
        warnings = core.appointments.calendar_warnings(
            years={d.year for a in listed for d in (a.publicity_starts_on, a.publicity_ends_on) if d})
        from core.exports import publicity_text, publicity_workbook  # see _send_run: loaded on first use

        await message.answer("\n\n".join([publicity_text(listed), *warnings])[:4000])
        await bot.send_document(message.chat.id, BufferedInputFile(publicity_workbook(listed), filename="publicity.xlsx"))


async def _start_publicity(message: Message, core: Core, staff: StaffActor, args: list[str]) -> None:
    ids, starts_on = [], None
    for token in args:
        day = None if token.isdigit() else parse_date(token)
        if token.isdigit():
            ids.append(int(token))
        elif day is not None and starts_on is None:
            starts_on = day
        else:
            ids = []
            break
    if not ids:
        await message.answer(text("match.staff.usage", usage=USAGE["publicity"]))
        return
    try:
        started = await core.appointments.start_publicity(
            appointment_ids=ids, staff=staff, starts_on=starts_on)
    except DomainError as error:
        await message.answer(error.message)
        return
    first = started[0]
    warnings = core.appointments.calendar_warnings(years=range(first.publicity_starts_on.year,
                                                               first.publicity_ends_on.year + 1))
    await message.answer("\n\n".join([text(
        "match.staff.publicity_started", count=len(started), ids="、".join(str(a.id) for a in started),
        start=first.publicity_starts_on, end=first.publicity_ends_on, days=core.settings.publicity_working_days,
    ), *warnings]))


async def objection(message: Message, command: CommandObject, core: Core, staff_actor: StaffActor) -> None:
    args = _args(command)
    outcomes = {"成立": True, "不成立": False, "待查": None}
    if len(args) < 3 or not args[0].isdigit() or args[1] not in outcomes:
        await message.answer(text("match.staff.usage", usage=USAGE["objection"]))
        return
    await _apply(message, core.appointments.record_objection(
        appointment_id=int(args[0]), staff=staff_actor, note=" ".join(args[2:]), upheld=outcomes[args[1]]))


async def agreement(message: Message, command: CommandObject, core: Core, staff_actor: StaffActor) -> None:
    args = _args(command)
    signed = parse_date(args[1]) if len(args) > 1 else None
    if len(args) < 6 or not args[0].isdigit() or signed is None or not args[2].isdigit() or not args[3].isdigit():
        await message.answer(text("match.staff.usage", usage=USAGE["agreement"]))
        return
    await _apply(message, core.appointments.record_agreement(
        appointment_id=int(args[0]), staff=staff_actor, signed_on=signed, term_years=int(args[2]),
        hours=int(args[3]), employer_consent=args[4] == "单位同意", content=" ".join(args[5:])))


async def filing(message: Message, command: CommandObject, core: Core, staff_actor: StaffActor) -> None:
    args = _args(command)
    filed = parse_date(args[1]) if len(args) > 1 else None
    if len(args) < 2 or not args[0].isdigit() or filed is None:
        await message.answer(text("match.staff.usage", usage=USAGE["filing"]))
        return
    await _apply(message, core.appointments.record_filing(
        appointment_id=int(args[0]), staff=staff_actor, filed_on=filed, note=" ".join(args[2:]) or None))


async def filing_export(message: Message, bot: Bot, core: Core, staff_actor: StaffActor) -> None:
    listed = await core.appointments.list(statuses=["agreed", "filed"], staff=staff_actor)
    if not listed:
        await message.answer(text("match.staff.filing_empty"))
        return
    from core.exports import filing_workbook  # see _send_run: loaded on first use

    await bot.send_document(message.chat.id, BufferedInputFile(filing_workbook(listed), filename="filing.xlsx"))


async def cap_lift(message: Message, command: CommandObject, core: Core, staff_actor: StaffActor) -> None:
    args = _args(command)
    if len(args) < 3 or not args[0].isdigit() or not args[1].isdigit():
        await message.answer(text("match.staff.usage", usage=USAGE["caplift"]))
        return
    try:
        await core.matching.lift_cap(expert_application_id=int(args[0]), max_universities=int(args[1]),
                                     reason=" ".join(args[2:]), staff=staff_actor)
    except DomainError as error:
        await message.answer(error.message)
        return
    await message.answer(text("match.staff.cap_lifted", id=args[0], cap=args[1]))


async def _apply(message: Message, action) -> None:
    try:
        view = await action
    except DomainError as error:
        await message.answer(error.message)
        return
    await message.answer(text("match.staff.done", id=view.id, status=view.status_label))


async def not_allowed(message: Message, core: Core, person: PersonView) -> None:
    log.warning("telegram user %s tried staff command %s", message.from_user.id, message.text)
    await core.people.record_forbidden(person_id=person.id, attempted=message.text or "")
    await message.answer(text("bot.not_allowed"))


async def not_allowed_button(callback: CallbackQuery, core: Core, person: PersonView) -> None:
    await core.people.record_forbidden(person_id=person.id, attempted=callback.data or "")
    await callback.answer(text("bot.not_allowed"), show_alert=True)


def create_router() -> Router:
    """A fresh router each call: a dispatcher per process (or per test) owns its own."""
    router = Router(name="staff_matching")
    # Each runs with the role of the staff account linked to the sender (core.domain.permissions).
    router.message.register(staff_action(Action.MATCHING_VIEW, match), Command("match"), IsStaff())
    router.callback_query.register(staff_action(Action.MATCHING_VIEW, choose_batch), MatchBatch.filter(), IsStaff())
    router.callback_query.register(staff_action(Action.MATCHING_RUN, start_run), StartRun.filter(), IsStaff())
    router.callback_query.register(staff_action(Action.MATCHING_CONFIRM, confirm), ConfirmRun.filter(), IsStaff())
    router.callback_query.register(staff_action(Action.MATCHING_VIEW, show_pairs), ShowPairs.filter(), IsStaff())
    router.callback_query.register(staff_action(Action.MATCHING_CONFIRM, pair_action), PairAction.filter(), IsStaff())
    # /publicity lists (appointments.view); /publicity start is checked again by core (publicity.start).
    router.message.register(staff_action(Action.APPOINTMENTS_VIEW, publicity), Command("publicity"), IsStaff())
    router.message.register(staff_action(Action.OBJECTION_RECORD, objection), Command("objection"), IsStaff())
    router.message.register(staff_action(Action.AGREEMENT_RECORD, agreement), Command("agreement"), IsStaff())
    router.message.register(staff_action(Action.FILING_RECORD, filing), Command("filing"), IsStaff())
    router.message.register(staff_action(Action.APPOINTMENTS_VIEW, filing_export), Command("filingexport"), IsStaff())
    router.message.register(staff_action(Action.MATCHING_CAP_LIFT, cap_lift), Command("caplift"), IsStaff())
    router.message.register(not_allowed, Command(*COMMANDS))
    for staff_only in (ConfirmRun, MatchBatch, StartRun, ShowPairs, PairAction):
        router.callback_query.register(not_allowed_button, staff_only.filter())
    return router
