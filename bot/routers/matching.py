"""Both sides of two-way matching in the chat: a university marks and orders its candidates;
an expert and a university answer a confirmed proposal."""
from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import CandidateMark, MoreCandidates
from core.bootstrap import Core
from core.domain import DomainError, FormKind
from core.replies import parse_answer_callback_data
from core.services import PersonView
from core.services.appointments import AppointmentView
from core.services.recommendations import Candidate, DemandCandidates, UniversityOption, profile_line
from core.texts import text

_DECLINE_KEY = "decline"


class DeclineReason(StatesGroup):
    waiting = State()


def _mark(candidate: Candidate) -> str:
    if candidate.choice == "want":
        return text("match.mark_want", rank=candidate.want_rank)
    if candidate.choice == "not_considering":
        return text("match.mark_not")
    return text("match.mark_none")


def candidate_card(candidate: Candidate) -> str:
    return text(
        "match.candidate_card", rank=candidate.rank, code=candidate.profile["code"], summary=profile_line(candidate.profile),
        reasons="；".join(candidate.reasons[:3]) or "—", mark=_mark(candidate),
    )


def _choice_keyboard(button, *, choice: str | None, want_rank: int | None) -> InlineKeyboardMarkup:
    """意向 / 不考虑, ⬆️ for a wanted one not yet first, and clear once something is picked."""
    row = [button("match.want_button", "want"), button("match.not_button", "not")]
    if choice == "want" and (want_rank or 0) > 1:
        row.append(button("match.up_button", "up"))
    if choice:
        row.append(button("match.clear_button", "clear"))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def candidate_keyboard(candidate: Candidate) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text(label), callback_data=CandidateMark(action=action, rec=candidate.recommendation_id).pack())

    return _choice_keyboard(button, choice=candidate.choice, want_rank=candidate.want_rank)


async def _university(core: Core, person: PersonView):
    return await core.dialog.in_matching(person, FormKind.UNIVERSITY)


async def show_candidates(bot: Bot, chat_id: int, groups: list[DemandCandidates], application_id: int) -> None:
    for group in groups:
        if not group.candidates:
            await bot.send_message(chat_id, text("match.course_no_candidates", course=group.course))
            continue
        await bot.send_message(chat_id, text("match.candidates_header", course=group.course, need=group.need))
        for candidate in group.candidates:
            await bot.send_message(chat_id, candidate_card(candidate), reply_markup=candidate_keyboard(candidate))
    more = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=text("match.more_button"), callback_data=MoreCandidates(app=application_id).pack())
    ]])
    await bot.send_message(chat_id, "—", reply_markup=more)


async def candidates(message: Message, bot: Bot, core: Core, person: PersonView) -> None:
    intent = await _university(core, person)
    if intent is None:
        await message.answer(text("match.no_candidates"))
        return
    groups = await core.recommendations.candidates(university_application_id=intent.application_id, person_id=person.id)
    if not any(group.candidates for group in groups):
        # They have submitted: never ask them to submit again; say what happens next.
        await message.answer(text("match.no_candidates_yet"))
        return
    await show_candidates(bot, message.chat.id, groups, intent.application_id)


async def mark(callback: CallbackQuery, callback_data: CandidateMark, core: Core, person: PersonView) -> None:
    choice = {"want": "want", "not": "not_considering", "clear": None}.get(callback_data.action)
    try:
        if callback_data.action == "up":
            groups = await core.recommendations.move_up(recommendation_id=callback_data.rec, person_id=person.id)
        else:
            groups = await core.recommendations.choose(recommendation_id=callback_data.rec, choice=choice, person_id=person.id)
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer(text("match.saved"))
    updated = next((c for g in groups for c in g.candidates if c.recommendation_id == callback_data.rec), None)
    if updated is not None:
        await callback.message.edit_text(candidate_card(updated), reply_markup=candidate_keyboard(updated))


async def more(callback: CallbackQuery, callback_data: MoreCandidates, bot: Bot, core: Core, person: PersonView) -> None:
    intent = await _university(core, person)
    if intent is None or intent.application_id != callback_data.app:
        await callback.answer(text("bot.expired"))
        return
    await callback.answer()
    before = {c.recommendation_id for g in await core.recommendations.candidates(
        university_application_id=intent.application_id, person_id=person.id) for c in g.candidates}
    groups = await core.recommendations.recommend(university_application_id=intent.application_id, person_id=person.id,
                                                  more=True)
    fresh = [DemandCandidates(g.demand_id, g.course, g.need, tuple(c for c in g.candidates if c.recommendation_id not in before))
             for g in groups]
    if not any(g.candidates for g in fresh):
        await callback.message.answer(text("match.more_none"))
        return
    await show_candidates(bot, callback.message.chat.id, [g for g in fresh if g.candidates], intent.application_id)


def _pair(view: AppointmentView) -> str:
    """The pair a reply is about, as the side who answered knows it: with several proposals open, each reply says which."""
    return text(f"match.pair.{view.side}", university=view.university_name, course=view.course, expert=view.expert_name)


async def answer(callback: CallbackQuery, core: Core, person: PersonView, state: FSMContext) -> None:
    parsed = parse_answer_callback_data(callback.data)
    appointment_id, accept = parsed
    if not accept:
        await callback.answer()
        await state.set_state(DeclineReason.waiting)
        await state.update_data({_DECLINE_KEY: appointment_id})
        await callback.message.answer(text("match.decline_reason"))
        return
    try:
        view = await core.appointments.respond(appointment_id=appointment_id, person_id=person.id, accept=True)
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    # The second yes: the branch publicises next (staff start it), so no dates yet.
    key = "match.both_accepted" if view.status == "accepted" else "match.accepted"
    await callback.message.answer(text(key, answer=text(f"match.answer.{view.side}"), pair=_pair(view)))


async def decline_reason(message: Message, core: Core, person: PersonView, state: FSMContext) -> None:
    appointment_id = (await state.get_data()).get(_DECLINE_KEY)
    try:
        view = await core.appointments.respond(appointment_id=appointment_id, person_id=person.id, accept=False,
                                               reason=message.text)
    except DomainError as error:
        await message.answer(error.message)
        if error.code == "reason_required":
            return
    else:
        await message.answer(text("match.declined", pair=_pair(view)))
    await state.set_state(None)
    await state.update_data({_DECLINE_KEY: None})


class ExpertPick(CallbackData, prefix="ep"):
    """An expert marks a proposed university: want, not (不考虑), up (earlier in their order) or clear."""

    action: str
    app: int
    u: int


def _expert_mark(option: UniversityOption) -> str:
    if option.choice == "want":
        return text("match.mark_want", rank=option.want_rank)
    if option.choice == "not_considering":
        return text("match.mark_not")
    return text("match.mark_none")


def university_option_card(option: UniversityOption) -> str:
    place = option.province + (f"·{option.city}" if option.city and option.city != option.province else "")
    return text("match.expert.card", university=option.university, place=place,
                courses="》《".join(option.courses), start=option.planned_start or "—",
                students=option.students or "—", mark=_expert_mark(option))


def university_option_keyboard(expert_application_id: int, option: UniversityOption) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text(label), callback_data=ExpertPick(
            action=action, app=expert_application_id, u=option.university_application_id).pack())

    return _choice_keyboard(button, choice=option.choice, want_rank=option.want_rank)


async def _pooled_expert(core: Core, person: PersonView):
    return await core.dialog.in_matching(person, FormKind.EXPERT)


async def universities(message: Message, bot: Bot, core: Core, person: PersonView) -> None:
    """The expert's side of 双向匹配: the universities they were recommended to, to rank or decline."""
    expert = await _pooled_expert(core, person)
    options = await core.recommendations.universities_for_expert(
        expert_application_id=expert.application_id, person_id=person.id) if expert else []
    if not options:
        await message.answer(text("match.expert.none"))
        return
    await message.answer(text("match.expert.header"))
    for option in options:
        await bot.send_message(message.chat.id, university_option_card(option),
                               reply_markup=university_option_keyboard(expert.application_id, option))


async def pick(callback: CallbackQuery, callback_data: ExpertPick, core: Core, person: PersonView) -> None:
    choice = {"want": "want", "not": "not_considering", "clear": None}
    if callback_data.action not in (*choice, "up"):
        await callback.answer(text("bot.expired"), show_alert=True)
        return
    try:
        if callback_data.action == "up":
            options = await core.recommendations.expert_move_up(
                expert_application_id=callback_data.app, university_application_id=callback_data.u, person_id=person.id)
        else:
            options = await core.recommendations.expert_choose(
                expert_application_id=callback_data.app, university_application_id=callback_data.u,
                choice=choice[callback_data.action], person_id=person.id)
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer(text("match.saved"))
    updated = next((o for o in options if o.university_application_id == callback_data.u), None)
    if updated is not None:
        await callback.message.edit_text(university_option_card(updated),
                                         reply_markup=university_option_keyboard(callback_data.app, updated))


def create_router() -> Router:
    """A fresh router each call: a dispatcher per process (or per test) owns its own."""
    router = Router(name="matching")
    router.message.register(candidates, Command("candidates"))
    router.message.register(universities, Command("universities"))
    router.callback_query.register(pick, ExpertPick.filter())
    router.callback_query.register(mark, CandidateMark.filter())
    router.callback_query.register(more, MoreCandidates.filter())
    router.callback_query.register(answer, F.data.func(lambda data: parse_answer_callback_data(data) is not None))
    router.message.register(decline_reason, StateFilter(DeclineReason.waiting), F.text & ~F.text.startswith("/"))
    return router
