"""The staff web console: a third entry point over `core/`, beside `bot/` and `notifier/`."""
