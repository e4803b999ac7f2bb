"""Spreadsheet downloads: the workbook is written to an anonymous temporary file, then sent from that file.

An export of national size (the whole pool: 60,000 rows at 100,000 experts; a run or a filing list of
thousands of pairs) is never held in memory: its rows come in chunks from the database (core.exports'
writers) and its bytes go to the browser from the file, a chunk at a time. The file has no name on disk
(tempfile.TemporaryFile): it is gone when closed, whether the download finished, failed or never started.
The response is returned unprepared, so the console's middlewares still add their headers (no-store,
nosniff, the CSP) before anything is sent.
"""
from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from typing import BinaryIO

from aiohttp import web

from core.exports import XLSX

__all__ = ["send_xlsx", "CHUNK"]

CHUNK = 256 * 1024


class _FileBodyResponse(web.StreamResponse):
    """Sends an open file from its start when aiohttp prepares the response; closes it either way."""

    def __init__(self, handle: BinaryIO, size: int, *, headers: dict[str, str]) -> None:
        super().__init__(headers=headers)
        self._handle = handle
        self.content_length = size

    async def prepare(self, request: web.BaseRequest):
        try:
            writer = await super().prepare(request)
            if request.method != "HEAD":
                self._handle.seek(0)
                while chunk := self._handle.read(CHUNK):
                    await self.write(chunk)
            return writer
        finally:
            self._handle.close()

    def __del__(self) -> None:  # never prepared (the client went away first): let the file go now
        handle = getattr(self, "_handle", None)
        if handle is not None and not handle.closed:
            handle.close()


async def send_xlsx(request: web.Request, write: Callable[[BinaryIO], Awaitable[object]], filename: str) -> web.StreamResponse:
    """Calls `write(file)` to write the workbook, then answers with that file as the download `filename`.

    Anything `write` raises (not found, refused) propagates before a byte is sent, as with a page."""
    handle = tempfile.TemporaryFile(prefix="innoeng-export-")
    try:
        await write(handle)
        size = handle.seek(0, 2)
    except BaseException:
        handle.close()
        raise
    return _FileBodyResponse(handle, size, headers={
        "Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{filename}"'})
