"""Two tabs approve the same application: the second tab hears it was already done, by whom and when."""
from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient, TestServer

from console.app import create_app
from tests.support.factories import submitted_expert

PASSWORD = "a-long-enough-passphrase"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def test_approving_in_a_second_tab_says_who_already_approved(core, clock):
    link = await core.staff.add(email="wang@example.org", name="王审核", role="reviewer", actor="test")
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    application_id = await submitted_expert(core)
    client = TestClient(TestServer(create_app(core)))
    await client.start_server()
    try:
        token = _csrf(await (await client.get("/login")).text())
        await client.post("/login", data={"csrf_token": token, "email": "wang@example.org", "password": PASSWORD})
        # Both tabs show the application while it is still waiting.
        first_tab = _csrf(await (await client.get(f"/applications/{application_id}")).text())
        second_tab = _csrf(await (await client.get(f"/applications/{application_id}")).text())
        done = await client.post(f"/applications/{application_id}/approve",
                                 data={"csrf_token": first_tab, "message": ""}, allow_redirects=False)
        assert done.status == 303
        again = await client.post(f"/applications/{application_id}/approve",
                                  data={"csrf_token": second_tab, "message": ""}, allow_redirects=False)
        page = html.unescape(await again.text())
    finally:
        await client.close()
    assert again.status == 400
    assert "该申请已于 2025-07-01 10:00 由 王审核 审核通过，无需再次操作。" in page
    assert "不能从" not in page
