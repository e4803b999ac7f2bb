"""A local stand-in for the Telegram Bot API, for tests, demos and `innoeng sandbox`.

The bot points aiogram at it (TelegramAPIServer.from_base(base_url)); tests and
the browser chat page act as people through the control API.
"""
from .client import BotMessage, SandboxClient, SandboxError
from .server import SandboxServer, create_app, running_sandbox, serve_forever
from .world import DEFAULT_TOKEN, Sandbox

__all__ = [
    "DEFAULT_TOKEN",
    "Sandbox",
    "SandboxServer",
    "create_app",
    "running_sandbox",
    "serve_forever",
    "SandboxClient",
    "BotMessage",
    "SandboxError",
]
