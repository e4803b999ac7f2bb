"""Console pages: the resource pool of approved experts and the university intents, with their xlsx."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import STAFF
from console.rendering import render
from console.routes.review import PAGE_SIZE, POOL, choices, filters_from, queue_page, queue_service
from console.spreadsheets import send_xlsx
from core.domain import FormKind

routes = web.RouteTableDef()

@routes.get("/pool")
@require(Action.REVIEW_READ)
async def pool(request: web.Request) -> web.Response:
    form = filters_from(request, **POOL)
    page = await queue_page(request, form)
    return render(request, "console/pool.html", page=page, form=form, choices=choices(), page_size=PAGE_SIZE,
                  export_query=form.query_string(), detail_query=form.query_string(list="pool"))


@routes.get("/pool.xlsx")
@require(Action.REVIEW_READ)
async def pool_export(request: web.Request) -> web.StreamResponse:
    form = filters_from(request, **POOL)
    queue = queue_service(request)
    return await send_xlsx(request, lambda target: queue.write_pool_workbook(filters=form.filters, target=target,
                                                                                      staff=request[STAFF]),
                           "pool.xlsx")


@routes.get("/intents")
@require(Action.REVIEW_READ)
async def intents(request: web.Request) -> web.Response:
    form = filters_from(request, form=FormKind.UNIVERSITY.value)
    page = await queue_page(request, form)
    return render(request, "console/intents.html", page=page, form=form, choices=choices(),
                  export_query=form.query_string(), detail_query=form.query_string(list="intents"))


@routes.get("/intents.xlsx")
@require(Action.REVIEW_READ)
async def intents_export(request: web.Request) -> web.StreamResponse:
    form = filters_from(request, form=FormKind.UNIVERSITY.value)
    queue = queue_service(request)
    return await send_xlsx(request, lambda target: queue.write_intents_workbook(filters=form.filters, target=target,
                                                                                         staff=request[STAFF]),
                           "intents.xlsx")
