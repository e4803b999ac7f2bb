"""Uploaded proof files: recognised by their content, stored under generated names."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["ACCEPTED_TYPES", "detect_mime", "StoredFile", "DocumentStore", "LocalDocumentStore"]

# Magic numbers, not file names: a renamed executable is not a PDF.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
ACCEPTED_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def detect_mime(content: bytes) -> str | None:
    for signature, mime in _SIGNATURES:
        if content.startswith(signature):
            return mime
    return None


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    sha256: str
    size: int


class DocumentStore(Protocol):
    def save(self, content: bytes, *, suffix: str) -> StoredFile: ...
    def read(self, stored_name: str) -> bytes: ...
    def delete(self, stored_name: str) -> None: ...


class LocalDocumentStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, stored_name: str) -> Path:
        # Names are ours (hex + known suffix); refuse anything else rather than trust it as a path.
        if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
            raise ValueError(f"not a stored document name: {stored_name!r}")
        return self.directory / stored_name

    def save(self, content: bytes, *, suffix: str) -> StoredFile:
        self.directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(content).hexdigest()
        stored_name = f"{secrets.token_hex(16)}{suffix}"
        path = self._path(stored_name)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(content)
        tmp.replace(path)
        return StoredFile(stored_name=stored_name, sha256=digest, size=len(content))

    def read(self, stored_name: str) -> bytes:
        return self._path(stored_name).read_bytes()

    def delete(self, stored_name: str) -> None:
        self._path(stored_name).unlink(missing_ok=True)
