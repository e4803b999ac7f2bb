"""What every page handler needs: the core, the signed-in person, the posted form."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.bootstrap import Core
from core.services.views import PersonView
from web.keys import CORE, PERSON, PERSON_ID
from web.security import redirect

__all__ = ["core_of", "person_of", "person_view_of", "signed_in"]


def core_of(request: web.Request) -> Core:
    return request.app[CORE]


def person_of(request: web.Request) -> int:
    return request[PERSON_ID]


def person_view_of(request: web.Request) -> PersonView | int:
    """The signed-in person as read with the session, for core.dialog (which then need not read them again);
    their id when the page was opened through a notice's link."""
    return request.get(PERSON) or request[PERSON_ID]


def signed_in(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """Pages of a person: anybody else is sent to sign in (a POST too: nothing is done for nobody)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if PERSON_ID not in request:
            return redirect("/signin")
        return await handler(request)

    return guarded
