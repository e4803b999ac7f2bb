"""Console pages: review (engineer F2, issue 14)."""
from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
