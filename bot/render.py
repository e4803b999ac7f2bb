"""How the dialog's screens look in the chat: a question with its keyboard, the review, the receipt.

Everything shown comes from the screen core hands over; this module only lays it out for Telegram."""
from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.callbacks import Consent, FormAction, Role
from core.dialog import Action, ConsentScreen, QuestionScreen, ReviewScreen, RoleScreen
from core.forms import Kind
from core.texts import text

__all__ = [
    "question_text", "question_keyboard", "phone_keyboard", "review_texts", "review_keyboard", "split_message",
    "MESSAGE_LIMIT", "files_keyboard", "consent_text", "consent_keyboard", "role_keyboard",
]

MESSAGE_LIMIT = 4096  # Telegram's limit for a message text, in characters


def question_text(screen: QuestionScreen, picked: list[str] | None = None) -> str:
    lines = [screen.progress + text("bot.progress_note") + (text("bot.editing") if screen.editing else "")]
    lines.append("")
    lines.append(screen.heading)
    if screen.help:
        lines.append(f"（{screen.help}）")
    if screen.kind == Kind.MULTI:
        labels = {c.value: c.label for c in screen.choices}
        chosen = "、".join(labels.get(v, v) for v in (picked or [])) or text("bot.nothing_picked")
        lines.append(text("bot.multi_hint", picked=chosen))
    elif screen.kind == Kind.FILE:
        if screen.files:
            lines.append(text("bot.files_so_far", count=len(screen.files)))
    elif screen.current_display:
        lines.append(text("bot.current_answer", value=screen.current_display))
    return "\n".join(lines)


def _button(label: str, token: str, action: str, i: int = -1) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label, callback_data=FormAction(action=action, tok=token, i=i).pack())


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


def _per_row(labels: list[str]) -> int:
    longest = max(len(label) for label in labels)
    return 4 if longest <= 3 else 2 if longest <= 8 else 1


def question_keyboard(screen: QuestionScreen, picked: list[str] | None = None) -> InlineKeyboardMarkup | None:
    token = screen.token
    rows: list[list[InlineKeyboardButton]] = []
    if screen.kind == Kind.SINGLE:
        labels = [c.label for c in screen.choices]
        rows += _rows([_button(c.label, token, "c", i) for i, c in enumerate(screen.choices)], _per_row(labels))
    elif screen.kind == Kind.YES_NO:
        rows.append([_button(c.label, token, "c", i) for i, c in enumerate(screen.choices)])
    elif screen.kind == Kind.MULTI:
        chosen = set(picked or [])
        labels = [c.label for c in screen.choices]
        rows += _rows([_button(("✅ " if c.value in chosen else "") + c.label, token, "t", i)
                       for i, c in enumerate(screen.choices)], _per_row(labels))
        rows.append([_button(text("bot.done"), token, "d")])
    elif screen.kind == Kind.FILE:
        rows.append([_button(text("bot.done"), token, "d")])
    navigation = []
    if Action.BACK in screen.actions:
        navigation.append(_button(text("bot.back"), token, "b"))
    if Action.KEEP in screen.actions:
        navigation.append(_button(text("bot.keep"), token, "k"))
    if Action.SKIP in screen.actions:
        navigation.append(_button(text("bot.skip"), token, "s"))
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def files_keyboard(screen: QuestionScreen) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(text("bot.done"), screen.token, "d")]])


def phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=text("bot.share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def consent_text(screen: ConsentScreen) -> str:
    """The notice, with the chat's commands as the way to see, correct, export and delete one's data."""
    return screen.notice_with_rights(text("bot.privacy_rights"))


def consent_keyboard(screen: ConsentScreen) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=screen.agree_label,
                             callback_data=Consent(kind=screen.kind, agree=True, tok=screen.token).pack()),
        InlineKeyboardButton(text=screen.decline_label,
                             callback_data=Consent(kind=screen.kind, agree=False, tok=screen.token).pack()),
    ]])


def role_keyboard(screen: RoleScreen) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=choice.label, callback_data=Role(role=choice.value).pack())]
        for choice in screen.choices
    ])


def split_message(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Lines joined into as few messages as fit Telegram's limit; a line longer than that is cut across two."""
    messages: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                messages.append(current)
                current = ""
            messages.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            candidate = line
        current = candidate
    if current or not messages:
        messages.append(current)
    return messages


def review_texts(screen: ReviewScreen) -> list[str]:
    """The review page with every answer whole and the first check, in one message or, when long, several."""
    lines = [screen.title, ""]
    lines += [f"{line.number}. {line.label}：{line.value}" for line in screen.lines]
    lines += ["", text("bot.verdict_title"), screen.verdict.summary]
    lines += [f"{v.number}. {v.title}：{v.outcome_label}。{v.reason}" for v in screen.verdict.lines]
    lines += ["", screen.hint]
    return split_message(lines)


def review_keyboard(screen: ReviewScreen) -> InlineKeyboardMarkup:
    edits = [_button(f"✏️{line.number}", screen.token, "e", line.number - 1) for line in screen.lines]
    rows = _rows(edits, 6)
    rows.append([_button(text("bot.submit"), screen.token, "S")])
    return InlineKeyboardMarkup(inline_keyboard=rows)
