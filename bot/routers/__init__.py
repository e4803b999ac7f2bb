"""All routers, composed in one place. Order matters: commands and staff before the catch-all form runner."""
from __future__ import annotations

from aiogram import Router

from bot.routers import account, form, matching, rsvp, staff, staff_events, staff_matching, start

__all__ = ["build_router"]


def build_router() -> Router:
    root = Router(name="innoeng")
    root.include_routers(
        start.create_router(),
        form.create_paused_router(),
        account.create_router(),
        staff.create_router(),
        staff_matching.create_router(),
        staff_events.create_router(),
        rsvp.create_router(),
        matching.create_router(),
        # Last: it takes any text as the answer to the current question.
        form.create_router(),
    )
    return root
