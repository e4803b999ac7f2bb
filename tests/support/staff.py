"""Staff accounts for tests: a Telegram id of STAFF_TELEGRAM_IDS acts with the role of the account linked to it; the\nconsole over HTTP signed in as an account of a role."""
from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

from aiohttp.test_utils import TestClient, TestServer

from core.bootstrap import Core
from core.services.staff_accounts import StaffAccountView

__all__ = ["CONSOLE_PASSWORD", "linked_staff", "signed_in_console"]


async def linked_staff(core: Core, telegram_id: int, role: str = "coordinator") -> StaffAccountView:
    """A console account of this role, linked to the Telegram id (as `innoeng staff link-telegram` does)."""
    link = await core.staff.add(email=f"tg{telegram_id}@staff.example.org", name=f"工作人员{telegram_id}", role=role,
                                actor="test")
    return await core.staff.link_telegram(ref=str(link.account.id), telegram_id=telegram_id, actor="test")


CONSOLE_PASSWORD = "a-long-enough-passphrase"


@contextlib.asynccontextmanager
async def signed_in_console(core: Core, role: str = "coordinator", *, email: str = "li@example.org",
                            name: str = "李协调") -> AsyncIterator[TestClient]:
    """The console over HTTP (aiohttp's test client), signed in through its login form as a new account of `role`."""
    from console.app import create_app

    link = await core.staff.add(email=email, name=name, role=role, actor="test")
    await core.staff.complete_setup(token=link.token, password=CONSOLE_PASSWORD, confirm=CONSOLE_PASSWORD)
    client = TestClient(TestServer(create_app(core)))
    await client.start_server()
    try:
        login = await (await client.get("/login")).text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        await client.post("/login", data={"csrf_token": token, "email": email, "password": CONSOLE_PASSWORD})
        yield client
    finally:
        await client.close()
