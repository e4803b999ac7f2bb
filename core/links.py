"""Signed links for notices: a link in an e-mail or an SMS opens one page, for one person and one object,
until it expires.

A token carries (version, person, purpose, object, expiry) in the clear and an HMAC-SHA256 of them under the
link secret (LINK_SECRET; unset, a random secret kept in DATA_DIR/link_secret, created on first use, so that a
development set-up keeps working across restarts). Nothing is stored per link: a link can be opened again
until it expires, and opening it does nothing by itself. The web page it leads to shows the buttons; only the
person's POST acts (mail scanners and link previews fetch links before people do).

    token = links.make(person_id=7, purpose="proposal", object_id=12, expires_at=answer_by)
    grant = links.open(token)            # LinkGrant(person_id=7, purpose="proposal", object_id=12, ...)
    path_for(grant.purpose, grant.object_id)  # "/proposals/12"
    link_path(token)                     # "/l/<token>": what an e-mail links to (absolute: WEB_BASE_URL + it)

A token is lower-case letters, digits and dots only, so that mail clients and SMS apps link it whole.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

__all__ = [
    "DEFAULT_LIFETIME",
    "LINK_PREFIX",
    "PURPOSES",
    "UNSUBSCRIBE_PREFIX",
    "LinkGrant",
    "LinkInvalid",
    "LinkService",
    "file_secret",
    "link_path",
    "path_for",
]

# Links other than proposals' (which expire at their answer deadline) live this long.
DEFAULT_LIFETIME = timedelta(days=30)

# purpose -> the code in the token. Codes never change meaning once links with them have been sent.
PURPOSES: dict[str, str] = {
    "status": "s",
    "needs_info": "n",
    "apply": "a",
    "candidates": "c",
    "universities": "u",
    "proposal": "p",
    "event": "e",
    "unsubscribe": "x",
}
_BY_CODE = {code: purpose for purpose, code in PURPOSES.items()}

# What the web answers: GET /l/<token> opens the page (signing in for it only when there is no session);
# GET and POST /unsubscribe/<token> show and confirm (or one-click, RFC 8058) an unsubscription.
LINK_PREFIX = "/l/"
UNSUBSCRIBE_PREFIX = "/unsubscribe/"

_VERSION = "1"
_MAC_BYTES = 15  # 120 bits, 24 base32 characters
_OBJECT = re.compile(r"[a-z0-9_]{1,40}")
_NUMBER = re.compile(r"[0-9a-z]{1,13}")


class LinkInvalid(Exception):
    """A link that opens nothing. `reason`: expired, altered, unknown (not a link of ours, or of an
    unknown kind), wrong_purpose (a valid link, but for another page than the one asked for)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkGrant:
    """What a valid link allows: `person_id` may see the page of `purpose` for `object_id`."""

    person_id: int
    purpose: str
    object_id: int | str
    expires_at: datetime

    @property
    def path(self) -> str:
        return path_for(self.purpose, self.object_id)

    def covers(self, path: str) -> bool:
        """The page itself and what its buttons and links reach under it (/candidates/12, /candidates/more,
        /events/5.ics), never another page of the site."""
        own = self.path
        return path == own or path.startswith(own.rstrip("/") + "/") or path.startswith(own + ".")

    @property
    def cookie_path(self) -> str:
        """The path a browser sends the link's cookie to: the page's first segment (/events for /events/5,
        so that /events/5.ics gets it too); `covers` then decides exactly."""
        return "/" + self.path.strip("/").split("/", 1)[0]


def path_for(purpose: str, object_id: int | str | None = None) -> str:
    """The page a link of `purpose` leads to."""
    match purpose:
        case "status":
            return "/status"
        case "needs_info" | "apply":
            return "/apply"
        case "candidates":
            return "/candidates"
        case "universities":
            return "/universities"
        case "proposal":
            return f"/proposals/{int(object_id)}"
        case "event":
            return f"/events/{int(object_id)}"
        case "receipt":
            return f"/receipt/{int(object_id)}"
    # "unsubscribe" has no page to go to: its link is answered where it points, /unsubscribe/<token>.
    raise ValueError(f"unknown link purpose {purpose!r}")


def link_path(token: str) -> str:
    """The path an e-mail or SMS links to for `token` (prefix it with WEB_BASE_URL)."""
    purpose = _BY_CODE.get(token.split(".")[1]) if token.count(".") == 4 else None
    return f"{UNSUBSCRIBE_PREFIX if purpose == 'unsubscribe' else LINK_PREFIX}{token}"


def file_secret(path: Path) -> Callable[[], bytes]:
    """A secret kept in `path`: read it, or create it (32 random bytes, hex, mode 0600) the first time.

    Two processes starting at once agree: the file appears complete or not at all (written beside, then
    hard-linked into place; whoever links second reads the winner's)."""
    cache: list[bytes] = []

    def load() -> bytes:
        if cache:
            return cache[0]
        try:
            value = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
            finally:
                temp.unlink(missing_ok=True)
            value = path.read_text(encoding="ascii").strip()
        if len(value) < 32:
            raise RuntimeError(f"the link secret in {path} is too short; delete the file to have a new one made")
        cache.append(value.encode("utf-8"))
        return cache[0]

    return load


def _b36(value: int) -> str:
    if value < 0:
        raise ValueError("negative")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if not value:
            return out


class LinkService:
    """Makes and opens signed links. `secret`: bytes, or a callable giving them (read on first use)."""

    def __init__(self, secret: bytes | str | Callable[[], bytes], *, clock: Callable[[], datetime] | None = None) -> None:
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        self._secret = secret
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_settings(cls, settings, *, clock: Callable[[], datetime] | None = None) -> "LinkService":
        configured = getattr(settings, "link_secret", None)
        if configured is not None and configured.get_secret_value():
            return cls(configured.get_secret_value(), clock=clock)
        return cls(file_secret(Path(settings.data_dir) / "link_secret"), clock=clock)

    def _key(self) -> bytes:
        return self._secret() if callable(self._secret) else self._secret

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key(), body.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.b32encode(digest).decode("ascii").lower()

    def make(self, person_id: int, purpose: str, object_id: int | str, expires_at: datetime | None = None) -> str:
        """A token for `person_id` to open the page of `purpose` for `object_id` until `expires_at`
        (default: DEFAULT_LIFETIME from now). Unsubscribe links name a notice kind as their object."""
        code = PURPOSES.get(purpose)
        if code is None:
            raise ValueError(f"unknown link purpose {purpose!r}")
        obj = str(object_id)
        if not _OBJECT.fullmatch(obj) or (purpose != "unsubscribe" and not obj.isdigit()):
            raise ValueError(f"a link's object must be a number (or a notice kind to unsubscribe from), not {obj!r}")
        if expires_at is None:
            expires_at = self._clock() + DEFAULT_LIFETIME
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be aware")
        expiry = int(expires_at.timestamp())
        body = ".".join((_VERSION + _b36(int(person_id)), code, obj, _b36(max(expiry, 0))))
        return f"{body}.{self._mac(body)}"

    def open(self, token: str, *, purpose: str | None = None) -> LinkGrant:
        """The grant a token carries; raises LinkInvalid (expired / altered / unknown / wrong_purpose).
        With `purpose`, a valid link for another purpose is refused as wrong_purpose."""
        parts = token.strip().lower().split(".") if isinstance(token, str) and len(token) <= 200 else []
        if len(parts) != 5:
            raise LinkInvalid("unknown")
        who, code, obj, expiry, mac = parts
        if not who.startswith(_VERSION) or not _NUMBER.fullmatch(who[1:] or "-") \
                or not _NUMBER.fullmatch(expiry) or not _OBJECT.fullmatch(obj):
            raise LinkInvalid("unknown")
        body = ".".join((who, code, obj, expiry))
        if not hmac.compare_digest(self._mac(body), mac):
            raise LinkInvalid("altered")
        found = _BY_CODE.get(code)
        if found is None:
            raise LinkInvalid("unknown")
        expires_at = datetime.fromtimestamp(int(expiry, 36), timezone.utc)
        if self._clock() >= expires_at:
            raise LinkInvalid("expired")
        if purpose is not None and purpose != found:
            raise LinkInvalid("wrong_purpose")
        return LinkGrant(person_id=int(who[1:], 36), purpose=found,
                         object_id=obj if found == "unsubscribe" else int(obj), expires_at=expires_at)

    def url(self, base_url: str, token: str) -> str:
        """The absolute address of `token` on the web at `base_url` (WEB_BASE_URL)."""
        return base_url.rstrip("/") + link_path(token)
