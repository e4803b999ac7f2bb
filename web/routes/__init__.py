"""The web channel's pages, one module per part of the journey."""

ROUTE_MODULES = ("public", "signin", "apply", "account", "mailbox", "matching", "links")
