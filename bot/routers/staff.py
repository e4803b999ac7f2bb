"""Staff in chat: the review queue oldest first, decisions by button, a reason by reply, statistics."""
from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import PendingPage, StaffReview
from bot.filters import IsStaff, staff_action
from core.bootstrap import Core
from core.domain import ApplicationStatus, DomainError
from core.domain.status import STATUS_LABELS
from core.domain.permissions import Action, StaffActor
from core.eligibility import OUTCOME_LABELS
from core.services import ApplicationSummary, PersonView
from core.services.figures import BatchFigures
from core.texts import text

log = logging.getLogger(__name__)

STAFF_COMMANDS = ("pending", "stats")
_REASON_KEY = "review"


class ReviewReason(StatesGroup):
    waiting = State()


def review_keyboard(application_id: int) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text(label), callback_data=StaffReview(action=action, app=application_id).pack())

    return InlineKeyboardMarkup(inline_keyboard=[
        [button("bot.approve", "approve"), button("bot.reject", "reject")],
        [button("bot.ask_info", "needs_info"), button("bot.show_files", "files")],
    ])


_KEY_LINES = ("工作单位", "单位类型", "工作年限", "最高学历", "职称/技能等级", "可授课程", "授课方式", "所在省份",
              "高校名称", "办学层次", "学生规模", "需求课程")


def application_card(summary: ApplicationSummary, zone) -> str:
    submitted = summary.submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if summary.submitted_at else "-"
    lines = [f"【{summary.form_title}】{summary.display_name}（{summary.reference}）", f"提交时间：{submitted}"]
    lines += [f"{line.label}：{line.value}" for line in summary.lines if line.label in _KEY_LINES]
    if summary.eligibility:
        verdict = summary.eligibility
        lines.append(f"资格初审：{OUTCOME_LABELS[verdict.outcome]}（优先分 {verdict.priority_score}）")
        lines += [f"· {OUTCOME_LABELS[r.outcome]}｜{r.title}：{r.reason}" for r in verdict.rules]
        lines += [f"· 优先：{reason}" for reason in verdict.priority_reasons]
    lines.append(f"材料：{len(summary.documents)} 份")
    return "\n".join(lines)


_PAGE = 10


async def _pending_page(bot: Bot, chat_id: int, core: Core, offset: int, staff: StaffActor) -> None:
    """One page of the queue under the true count, and a button to the next page while any are left."""
    total = (await core.figures.queue(staff=staff)).waiting  # every batch, as the queue below pages through
    queue = await core.review.pending(staff=staff, limit=_PAGE, offset=offset)
    if not queue:
        await bot.send_message(chat_id, text("bot.pending_empty"))
        return
    last = offset + len(queue)
    await bot.send_message(chat_id, text("bot.pending_page", total=max(total, last), first=offset + 1, last=last))
    for summary in queue:
        await bot.send_message(chat_id, application_card(summary, core.settings.zone), reply_markup=review_keyboard(summary.id))
    if last < total:
        more = InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text=text("bot.next_page"), callback_data=PendingPage(offset=last).pack())
        ]])
        await bot.send_message(chat_id, text("bot.pending_more", left=total - last), reply_markup=more)


async def pending(message: Message, bot: Bot, core: Core, staff_actor: StaffActor) -> None:
    await _pending_page(bot, message.chat.id, core, 0, staff_actor)


async def next_page(callback: CallbackQuery, callback_data: PendingPage, bot: Bot, core: Core,
                    staff_actor: StaffActor) -> None:
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    await _pending_page(bot, callback.message.chat.id, core, max(callback_data.offset, 0), staff_actor)


def _listed(pairs) -> str:
    return "，".join(f"{name} {count}" for name, count in pairs) or text("bot.stats_none")


def stats_text(figures: BatchFigures | None) -> str:
    """/stats in words: the same figures as the console's dashboard (core.services.figures), for the same batch."""
    if figures is None:
        return "\n".join([text("bot.stats"), text("bot.stats_no_batch")])
    lines = [text("bot.stats_batch", batch=figures.batch.name)]
    for form, counts in figures.by_status.items():
        named = [(STATUS_LABELS[ApplicationStatus(status)], count) for status, count in counts.items() if count]
        lines.append(text("bot.stats_status_line", form=text(f"form.{form}"),
                          counts="，".join(f"{label} {count}" for label, count in named) or "0"))
    lines.append(text("bot.stats_pool", items=_listed((c, n) for c, n in figures.pool_by_course.items() if n)))
    lines.append(text("bot.stats_demand", items=_listed((c, n) for c, n in figures.demand_by_course.items() if n)))
    for form, provinces in figures.applicants_by_province.items():
        top = [(province or text("figures.province_unknown"), count) for province, count in provinces[:10]]
        lines.append(text(f"bot.stats_provinces.{form}", items=_listed(top)))
    return "\n".join(lines)


async def stats(message: Message, core: Core, staff_actor: StaffActor) -> None:
    await message.answer(stats_text(await core.figures.batch(staff=staff_actor)))


async def decide(callback: CallbackQuery, callback_data: StaffReview, bot: Bot, core: Core, state: FSMContext,
                 staff_actor: StaffActor) -> None:
    staff = staff_actor
    if callback_data.action == "files":
        await callback.answer()
        summary = await core.intake.summary(application_id=callback_data.app)
        for document in summary.documents:
            view, content = await core.intake.read_document_for_staff(document_id=document.id, staff=staff)
            extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[view.mime]
            name = f"{summary.reference}-{view.id}.{extension}"
            await bot.send_document(callback.message.chat.id, BufferedInputFile(content, filename=name),
                                    caption=view.original_name or name)
        return
    if callback_data.action == "approve":
        await callback.answer()
        try:
            summary = await core.review.approve(application_id=callback_data.app, staff=staff)
        except DomainError as error:
            await callback.message.answer(error.message)
            return
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(text("bot.review_done", name=summary.display_name, reference=summary.reference,
                                           status=summary.status_label))
        return
    await callback.answer()
    await state.set_state(ReviewReason.waiting)
    await state.update_data({_REASON_KEY: {"app": callback_data.app, "action": callback_data.action}})
    await callback.message.answer(text(f"bot.reason_prompt.{callback_data.action}"))


async def reason_given(message: Message, core: Core, state: FSMContext, staff_actor: StaffActor) -> None:
    pending_review = (await state.get_data()).get(_REASON_KEY) or {}
    staff = staff_actor
    if message.text.startswith("/"):
        await state.set_state(None)
        await message.answer(text("bot.cancelled"))
        return
    try:
        if pending_review.get("action") == "reject":
            summary = await core.review.reject(application_id=pending_review["app"], staff=staff, reason=message.text)
        else:
            summary = await core.review.request_info(application_id=pending_review["app"], staff=staff, message=message.text)
    except DomainError as error:
        await message.answer(error.message)
        if error.code == "reason_required":
            return
        await state.set_state(None)
        return
    await state.set_state(None)
    await state.update_data({_REASON_KEY: None})
    await message.answer(text("bot.review_done", name=summary.display_name, reference=summary.reference,
                              status=summary.status_label))


async def not_allowed(message: Message, core: Core, person: PersonView) -> None:
    log.warning("telegram user %s tried staff command %s", message.from_user.id, message.text)
    await core.people.record_forbidden(person_id=person.id, attempted=message.text or "")
    await message.answer(text("bot.not_allowed"))


async def not_allowed_button(callback: CallbackQuery, core: Core, person: PersonView) -> None:
    log.warning("telegram user %s pressed a staff button %s", callback.from_user.id, callback.data)
    await core.people.record_forbidden(person_id=person.id, attempted=callback.data or "")
    await callback.answer(text("bot.not_allowed"), show_alert=True)


def create_router() -> Router:
    """A fresh router each call: a dispatcher per process (or per test) owns its own."""
    router = Router(name="staff")
    # Every id of STAFF_TELEGRAM_IDS reviews, linked to a staff account or not (core.domain.permissions).
    router.message.register(staff_action(Action.REVIEW_READ, pending), Command("pending"), IsStaff())
    router.message.register(staff_action(Action.REVIEW_READ, stats), Command("stats"), IsStaff())
    router.callback_query.register(staff_action(Action.REVIEW_DECIDE, decide), StaffReview.filter(), IsStaff())
    router.callback_query.register(staff_action(Action.REVIEW_READ, next_page), PendingPage.filter(), IsStaff())
    router.message.register(staff_action(Action.REVIEW_DECIDE, reason_given), StateFilter(ReviewReason.waiting),
                            IsStaff(), F.text)
    router.message.register(not_allowed, Command(*STAFF_COMMANDS))
    router.callback_query.register(not_allowed_button, StaffReview.filter())
    router.callback_query.register(not_allowed_button, PendingPage.filter())
    return router
