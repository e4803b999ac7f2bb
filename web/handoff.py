"""The page a POST has just drawn, handed to the GET its 303 leads to.

Every answer is a POST that redirects to GET /apply (PRG). The POST already holds what that GET would read
again: the session it checked and the screen core returned with the outcome. Reading both once more, a few
milliseconds later, was a third of an answer's cost on the server. So the POST leaves the screen here, under
its session, and the next GET of that page in this process takes it (once). Nothing here decides anything:
what is kept is core's screen as core returned it, and the next act on it is checked by its token in core
like any other (an older page is told stale).

Bounds: a hand-off lives `HANDOFF_TTL_S` (a browser follows a redirect at once; one not followed is dropped)
and there are at most `HANDOFF_KEPT` of them; a session closed in this process drops its hand-off. A GET that
finds none (another process behind the proxy, a reload later, another tab) reads as before."""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

__all__ = ["Handoff", "PageHandoffs", "HANDOFF_TTL_S", "HANDOFF_KEPT"]

HANDOFF_TTL_S = 3.0
HANDOFF_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Handoff:
    path: str
    person_id: int
    screen: Any
    made_at: float


class PageHandoffs:
    def __init__(self, *, ttl_s: float = HANDOFF_TTL_S, kept: int = HANDOFF_KEPT, clock=time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._kept = kept
        self._clock = clock
        self._by_session: OrderedDict[str, Handoff] = OrderedDict()

    def leave(self, session_id: str, *, path: str, person_id: int, screen: Any) -> None:
        self._by_session[session_id] = Handoff(path, person_id, screen, self._clock())
        self._by_session.move_to_end(session_id)
        while len(self._by_session) > self._kept:
            self._by_session.popitem(last=False)

    def take(self, session_id: str, path: str) -> Handoff | None:
        """The hand-off for this session's GET of `path`, once; None when there is none, it is for another
        page, or it is older than the TTL (each of which drops it)."""
        handoff = self._by_session.pop(session_id, None)
        if handoff is None or handoff.path != path or self._clock() - handoff.made_at > self._ttl_s:
            return None
        return handoff

    def drop_person(self, person_id: int) -> None:
        """Signed out (here or everywhere) or erased: none of this person's pages is handed on."""
        for session_id in [s for s, h in self._by_session.items() if h.person_id == person_id]:
            del self._by_session[session_id]

    def __len__(self) -> int:
        return len(self._by_session)
