"""The participants' web channel: the dialog's screens as pages, one-time-code sign-in, status and own data.

Composed from core.bootstrap like the console; nothing connects at import."""
