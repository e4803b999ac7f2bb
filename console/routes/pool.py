"""Console pages: the resource pool of approved experts and the university intents, with their xlsx."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from console.rendering import render
from console.routes.review import PAGE_SIZE, POOL, choices, filters_from, queue_page, queue_service
from core.domain import FormKind
from core.domain.staff import Role

routes = web.RouteTableDef()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes, filename: str) -> web.Response:
    response = web.Response(body=content, content_type=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@routes.get("/pool")
@require(Role.REVIEWER)
async def pool(request: web.Request) -> web.Response:
    form = filters_from(request, **POOL)
    page = await queue_page(request, form)
    return render(request, "console/pool.html", page=page, form=form, choices=choices(), page_size=PAGE_SIZE,
                  export_query=form.query_string(), detail_query=form.query_string(list="pool"))


@routes.get("/pool.xlsx")
@require(Role.REVIEWER)
async def pool_export(request: web.Request) -> web.Response:
    form = filters_from(request, **POOL)
    return _xlsx(await queue_service(request).pool_workbook(filters=form.filters), "pool.xlsx")


@routes.get("/intents")
@require(Role.REVIEWER)
async def intents(request: web.Request) -> web.Response:
    form = filters_from(request, form=FormKind.UNIVERSITY.value)
    page = await queue_page(request, form)
    return render(request, "console/intents.html", page=page, form=form, choices=choices(),
                  export_query=form.query_string(), detail_query=form.query_string(list="intents"))


@routes.get("/intents.xlsx")
@require(Role.REVIEWER)
async def intents_export(request: web.Request) -> web.Response:
    form = filters_from(request, form=FormKind.UNIVERSITY.value)
    return _xlsx(await queue_service(request).intents_workbook(filters=form.filters), "intents.xlsx")
