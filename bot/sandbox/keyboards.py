"""reply_markup checks Telegram makes, so a bad keyboard fails here as it would in production."""
from __future__ import annotations

from typing import Any

from .errors import bad_request

__all__ = ["check_reply_markup", "inline_rows", "callback_data_of"]

_INLINE_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "copy_text", "callback_game", "pay",
)


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if not any(key in button for key in _INLINE_ACTIONS):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode()) <= 64):
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("field \"keyboard\" of the ReplyKeyboardMarkup should be an Array of Arrays")
        normalized = [[{"text": b} if isinstance(b, str) else b for b in row] for row in rows]
        for row in normalized:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("can't parse keyboard button: Field \"text\" must be of type String")
        return {**markup, "keyboard": normalized}
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup:
        return []
    return markup.get("inline_keyboard") or []


def callback_data_of(markup: dict[str, Any] | None, button_text: str) -> str | None:
    """callback_data of the button with this text (exact match first, then substring)."""
    buttons = [button for row in inline_rows(markup) for button in row if "callback_data" in button]
    for match in (lambda b: b["text"] == button_text, lambda b: button_text in b["text"]):
        for button in buttons:
            if match(button):
                return button["callback_data"]
    return None
