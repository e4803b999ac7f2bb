"""Callback data of every inline button. Telegram allows 64 bytes, so steps travel as short tokens."""
from __future__ import annotations

import hashlib

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
    "step_token",
    "REVIEW_TOKEN",
]

REVIEW_TOKEN = "review"


def step_token(step_key: str) -> str:
    """A button carries the token of the question it was shown with; a mismatch means it has expired."""
    return hashlib.sha1(step_key.encode("utf-8")).hexdigest()[:8]


class FormAction(CallbackData, prefix="f"):
    # c: choose, t: toggle (multi), d: done (multi/file), b: back, s: skip, e: edit from review, S: submit
    action: str
    app: int
    step: str
    i: int = -1


class Consent(CallbackData, prefix="consent"):
    kind: str  # "general" or "sensitive"
    agree: bool


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
