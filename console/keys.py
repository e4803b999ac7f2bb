"""Keys under which the console keeps its state on the application and on each request."""
from __future__ import annotations

from aiohttp import web

from core.bootstrap import Core
from core.domain.staff import StaffIdentity

__all__ = ["CORE", "SECURE_COOKIES", "STAFF", "CSRF_TOKEN", "SESSION_TOKEN"]

CORE = web.AppKey("core", Core)
SECURE_COOKIES = web.AppKey("secure_cookies", bool)

# Request keys (aiohttp requests are plain mappings).
STAFF = web.RequestKey("staff", StaffIdentity)  # the signed-in staff member; absent when anonymous
CSRF_TOKEN = web.RequestKey("csrf_token", str)
SESSION_TOKEN = web.RequestKey("session_token", str)
