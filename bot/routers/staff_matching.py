"""Staff running two-way matching from the chat: run and confirm, publicity, objections, agreements, filing."""
from __future__ import annotations

import logging
import shlex

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import ConfirmRun
from bot.filters import IsStaff
from core.bootstrap import Core
from core.domain import DomainError
from core.exports import filing_workbook, publicity_text, publicity_workbook, run_workbook
from core.forms.normalize import parse_date
from core.services import PersonView
from core.texts import text

log = logging.getLogger(__name__)

COMMANDS = ("match", "publicity", "objection", "agreement", "filing", "filingexport", "caplift")
USAGE = {
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


async def match(message: Message, bot: Bot, core: Core) -> None:
    batch = await core.batches.current()
    if batch is None:
        batches = await core.batches.list()
        batch = batches[-1] if batches else None
    if batch is None:
        await message.answer(text("batch.none_open"))
        return
    try:
        run = await core.matching.run(batch_id=batch.id, staff=f"staff:{message.from_user.id}")
    except DomainError as error:
        await message.answer(error.message)
        return
    lines = [text("match.staff.run_summary", id=run.id, status=run.solver_status, filled=run.filled, need=run.total_need,
                  score=run.score, gap=run.gap, time=run.time_s)]
    for slot in run.unfilled:
        lines.append(text("match.staff.unfilled", university=slot.get("university"), course=slot.get("demand"),
                          missing=slot.get("missing"), why=slot.get("explanation")))
    for proposal in run.proposals[:_SHOWN_PROPOSALS]:
        lines.append(text("match.staff.proposal", id=proposal.id, university=proposal.university_name, course=proposal.course,
                          expert=proposal.expert_name, employer=proposal.employer, score=proposal.score,
                          fixed="（已接受）" if proposal.fixed else ""))
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=text("match.staff.confirm_button"), callback_data=ConfirmRun(run=run.id).pack())
    ]])
    await message.answer("\n".join(lines)[:4000], reply_markup=markup)
    await bot.send_document(message.chat.id, BufferedInputFile(run_workbook(run), filename=f"match-run-{run.id}.xlsx"))


async def confirm(callback: CallbackQuery, callback_data: ConfirmRun, core: Core) -> None:
    try:
        before = await core.matching.get(run_id=callback_data.run)
        run = await core.matching.confirm(run_id=callback_data.run, staff=f"staff:{callback.from_user.id}")
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    count = sum(1 for p in run.proposals if p.appointment_id) - sum(1 for p in before.proposals if p.appointment_id)
    reply = text("match.staff.confirmed", id=run.id, count=count) if count else text("match.staff.nothing_new")
    await callback.message.answer(reply)


async def publicity(message: Message, bot: Bot, core: Core) -> None:
    listed = await core.appointments.list(statuses=["publicity"])
    if not listed:
        await message.answer(text("match.staff.publicity_empty"))
        return
    await message.answer(publicity_text(listed)[:4000])
    await bot.send_document(message.chat.id, BufferedInputFile(publicity_workbook(listed), filename="publicity.xlsx"))


async def objection(message: Message, command: CommandObject, core: Core) -> None:
    args = _args(command)
    outcomes = {"成立": True, "不成立": False, "待查": None}
    if len(args) < 3 or not args[0].isdigit() or args[1] not in outcomes:
        await message.answer(text("match.staff.usage", usage=USAGE["objection"]))
        return
    await _apply(message, core.appointments.record_objection(
        appointment_id=int(args[0]), staff=f"staff:{message.from_user.id}", note=" ".join(args[2:]), upheld=outcomes[args[1]]))


async def agreement(message: Message, command: CommandObject, core: Core) -> None:
    args = _args(command)
    signed = parse_date(args[1]) if len(args) > 1 else None
    if len(args) < 6 or not args[0].isdigit() or signed is None or not args[2].isdigit() or not args[3].isdigit():
        await message.answer(text("match.staff.usage", usage=USAGE["agreement"]))
        return
    await _apply(message, core.appointments.record_agreement(
        appointment_id=int(args[0]), staff=f"staff:{message.from_user.id}", signed_on=signed, term_years=int(args[2]),
        hours=int(args[3]), employer_consent=args[4] == "单位同意", content=" ".join(args[5:])))


async def filing(message: Message, command: CommandObject, core: Core) -> None:
    args = _args(command)
    filed = parse_date(args[1]) if len(args) > 1 else None
    if len(args) < 2 or not args[0].isdigit() or filed is None:
        await message.answer(text("match.staff.usage", usage=USAGE["filing"]))
        return
    await _apply(message, core.appointments.record_filing(
        appointment_id=int(args[0]), staff=f"staff:{message.from_user.id}", filed_on=filed, note=" ".join(args[2:]) or None))


async def filing_export(message: Message, bot: Bot, core: Core) -> None:
    listed = await core.appointments.list(statuses=["agreed", "filed"])
    if not listed:
        await message.answer(text("match.staff.filing_empty"))
        return
    await bot.send_document(message.chat.id, BufferedInputFile(filing_workbook(listed), filename="filing.xlsx"))


async def cap_lift(message: Message, command: CommandObject, core: Core) -> None:
    args = _args(command)
    if len(args) < 3 or not args[0].isdigit() or not args[1].isdigit():
        await message.answer(text("match.staff.usage", usage=USAGE["caplift"]))
        return
    try:
        await core.matching.lift_cap(expert_application_id=int(args[0]), max_universities=int(args[1]),
                                     reason=" ".join(args[2:]), staff=f"staff:{message.from_user.id}")
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
    router.message.register(match, Command("match"), IsStaff())
    router.callback_query.register(confirm, ConfirmRun.filter(), IsStaff())
    router.message.register(publicity, Command("publicity"), IsStaff())
    router.message.register(objection, Command("objection"), IsStaff())
    router.message.register(agreement, Command("agreement"), IsStaff())
    router.message.register(filing, Command("filing"), IsStaff())
    router.message.register(filing_export, Command("filingexport"), IsStaff())
    router.message.register(cap_lift, Command("caplift"), IsStaff())
    router.message.register(not_allowed, Command(*COMMANDS))
    router.callback_query.register(not_allowed_button, ConfirmRun.filter())
    return router
