"""Callback data of every inline button. Telegram allows 64 bytes: screens travel as their short tokens."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

__all__ = [
    "FormAction",
    "Consent",
    "Role",
    "Confirm",
    "StaffReview",
    "CandidateMark",
    "MoreCandidates",
    "ConfirmRun",
    "PendingPage",
]


class FormAction(CallbackData, prefix="f"):
    # c: choose, t: toggle (multi), d: done (multi/file), k: keep, b: back, s: skip, e: edit from review, S: submit
    action: str
    tok: str  # the token of the screen the button was drawn on (core.dialog): an older one has expired
    i: int = -1


class Consent(CallbackData, prefix="consent"):
    kind: str  # "general" or "sensitive"
    agree: bool
    tok: str = "consent"  # the screen's token: the sensitive consent belongs to one question of one draft


class Role(CallbackData, prefix="role"):
    role: str


class Confirm(CallbackData, prefix="confirm"):
    what: str  # "withdraw" or "delete"
    app: int = 0
    yes: bool


class StaffReview(CallbackData, prefix="rv"):
    action: str  # approve, reject, needs_info, files
    app: int


class CandidateMark(CallbackData, prefix="cm"):
    action: str  # want, not, up, clear
    rec: int


class MoreCandidates(CallbackData, prefix="more"):
    app: int


class ConfirmRun(CallbackData, prefix="run"):
    run: int


class PendingPage(CallbackData, prefix="pg"):
    offset: int
