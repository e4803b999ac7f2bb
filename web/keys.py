"""Keys under which the web channel keeps its state on the application and on each request."""
from __future__ import annotations

import jinja2
from aiohttp import web

from core.bootstrap import Core
from core.services.views import PersonView
from web.handoff import PageHandoffs

__all__ = ["CORE", "SECURE", "EMAILS", "PERSON_ID", "PERSON", "SESSION_ID", "CSRF_TOKEN", "NEW_CSRF",
           "HANDOFFS", "HANDED_OFF"]

CORE = web.AppKey("core", Core)
SECURE = web.AppKey("secure", bool)  # behind HTTPS (WEB_BASE_URL https://): Secure cookies
EMAILS = web.AppKey("emails", jinja2.Environment)  # the e-mail templates, for the local mailbox page
HANDOFFS = web.AppKey("handoffs", PageHandoffs)  # pages a POST drew, for the GET its redirect leads to

PERSON_ID = web.RequestKey("person_id", int)  # the signed-in person; absent when anonymous
PERSON = web.RequestKey("person", PersonView)  # that person as read with the session (consents, role)
SESSION_ID = web.RequestKey("session_id", str)
CSRF_TOKEN = web.RequestKey("csrf_token", str)
NEW_CSRF = web.RequestKey("new_csrf", str)  # a fresh anonymous token to set as a cookie on the response
HANDED_OFF = web.RequestKey("handed_off", object)  # the screen a POST drew for this GET (web.handoff)
