"""Uploaded proof files: recognised by their content, stored under generated names."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["ACCEPTED_TYPES", "detect_mime", "StoredFile", "StoredEntry", "DocumentStore", "LocalDocumentStore"]

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
    """Files follow their rows: `stage` writes under a temporary name, `publish` (after the row's commit)
    gives it its stored name, `discard` (after a rollback) removes it. Nothing half-written is ever left
    under a stored name, and nothing staged outlives a failed transaction."""

    def stage(self, content: bytes, *, suffix: str) -> StoredFile: ...
    def publish(self, stored_name: str) -> None: ...
    def discard(self, stored_name: str) -> None: ...
    def read(self, stored_name: str) -> bytes: ...
    def delete(self, stored_name: str) -> None: ...
    def exists(self, stored_name: str) -> bool: ...
    def inventory(self) -> list[StoredEntry]: ...


@dataclass(frozen=True)
class StoredEntry:
    """A file found in the store: published (a stored name) or staged (`.part`, not yet committed)."""

    stored_name: str
    staged: bool
    modified_at: float


class LocalDocumentStore:
    STAGED = ".part"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, stored_name: str) -> Path:
        # Names are ours (hex + known suffix); refuse anything else rather than trust it as a path.
        if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
            raise ValueError(f"not a stored document name: {stored_name!r}")
        return self.directory / stored_name

    def _staged(self, stored_name: str) -> Path:
        return self._path(stored_name + self.STAGED)

    def stage(self, content: bytes, *, suffix: str) -> StoredFile:
        self.directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(content).hexdigest()
        stored_name = f"{secrets.token_hex(16)}{suffix}"
        staged = self._staged(stored_name)
        try:
            staged.write_bytes(content)
        except BaseException:
            # A failed write (disk full, cancelled) must not leave certificate bytes behind.
            staged.unlink(missing_ok=True)
            raise
        return StoredFile(stored_name=stored_name, sha256=digest, size=len(content))

    def publish(self, stored_name: str) -> None:
        self._staged(stored_name).replace(self._path(stored_name))

    def discard(self, stored_name: str) -> None:
        self._staged(stored_name).unlink(missing_ok=True)

    def read(self, stored_name: str) -> bytes:
        path = self._path(stored_name)
        if not path.exists() and self._staged(stored_name).exists():
            # Committed but not yet renamed (the process stopped in between): the row is the truth.
            return self._staged(stored_name).read_bytes()
        return path.read_bytes()

    def delete(self, stored_name: str) -> None:
        """Raises OSError when the file cannot be removed: the caller keeps it queued and retries."""
        self._path(stored_name).unlink(missing_ok=True)
        self._staged(stored_name).unlink(missing_ok=True)

    def exists(self, stored_name: str) -> bool:
        return self._path(stored_name).exists() or self._staged(stored_name).exists()

    def inventory(self) -> list[StoredEntry]:
        if not self.directory.exists():
            return []
        entries = []
        for path in sorted(self.directory.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            staged = path.name.endswith(self.STAGED)
            name = path.name[: -len(self.STAGED)] if staged else path.name
            entries.append(StoredEntry(stored_name=name, staged=staged, modified_at=path.stat().st_mtime))
        return entries
