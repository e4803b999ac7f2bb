"""Keys under which the console keeps its state on the application and on each request."""
from __future__ import annotations

from aiohttp import web

from core.bootstrap import Core
from core.domain.staff import StaffIdentity

__all__ = ["CORE", "SECURE_COOKIES", "STAFF", "CSRF_TOKEN", "SESSION_TOKEN", "FIELD_ERRORS"]

CORE = web.AppKey("core", Core)
SECURE_COOKIES = web.AppKey("secure_cookies", bool)

# Request keys (aiohttp requests are plain mappings).
STAFF = web.RequestKey("staff", StaffIdentity)  # the signed-in staff member; absent when anonymous
CSRF_TOKEN = web.RequestKey("csrf_token", str)
SESSION_TOKEN = web.RequestKey("session_token", str)
# After a refused POST: the message for each field it concerns (a key of core.domain.limits.LIMITS or a field name).
FIELD_ERRORS = web.RequestKey("field_errors", dict)
