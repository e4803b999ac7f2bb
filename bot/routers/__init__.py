"""All routers, composed in one place. Order matters: commands and staff before the catch-all form runner."""
from __future__ import annotations

import importlib

from aiogram import Router

__all__ = ["build_router"]

# Routers contributed by other modules (workshop RSVP, staff events) join when present.
_OPTIONAL = ("bot.routers.rsvp", "bot.routers.staff_events")


def build_router() -> Router:
    from bot.routers import account, form, staff, start

    root = Router(name="innoeng")
    root.include_routers(start.create_router(), account.create_router(), staff.create_router())
    for name in _OPTIONAL:
        try:
            root.include_router(importlib.import_module(name).create_router())
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    root.include_router(form.create_router())
    return root
