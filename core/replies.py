"""The answers a notification invites with a button, written as short tokens the answer carries back.

A workshop invitation is answered attending / not attending (RSVP); a match proposal is answered accept
(expert) or confirm (university) / decline. The notifier puts a token on each button it sends; the
channel that receives the press reads it back with the matching parser. Tokens are short and stable:
they must fit the tightest button payload a channel allows (a Telegram button carries at most 64 bytes).
"""
from __future__ import annotations

__all__ = [
    "ANSWER_KINDS",
    "RSVP_KINDS",
    "answer_callback_data",
    "parse_answer_callback_data",
    "parse_rsvp_callback_data",
    "rsvp_callback_data",
]

# Notification kinds answered attending / not attending (payload: invitation_id).
RSVP_KINDS = frozenset({"workshop_invitation", "workshop_updated"})
# Proposals the recipient answers with a button: accept (expert) / confirm (university), or decline
# (payload: appointment_id).
ANSWER_KINDS = frozenset({"match_proposal", "match_answer_reminder"})


def rsvp_callback_data(invitation_id: int, attending: bool) -> str:
    return f"rsvp:{invitation_id}:{'y' if attending else 'n'}"


def parse_rsvp_callback_data(data: str | None) -> tuple[int, bool] | None:
    """(invitation id, attending), or None for anything that is not an RSVP token."""
    return _parse("rsvp", data)


def answer_callback_data(appointment_id: int, accept: bool) -> str:
    return f"ap:{appointment_id}:{'y' if accept else 'n'}"


def parse_answer_callback_data(data: str | None) -> tuple[int, bool] | None:
    """(appointment id, accept), or None for anything that is not a proposal answer token."""
    return _parse("ap", data)


def _parse(prefix: str, data: str | None) -> tuple[int, bool] | None:
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] != prefix or not (parts[1].isascii() and parts[1].isdigit()) or parts[2] not in ("y", "n"):
        return None
    return int(parts[1]), parts[2] == "y"
