"""Personal data never reaches a log line: mobiles, e-mails and ID-like numbers are masked in every record.

SQL parameters are already kept out of errors by the engine (`hide_parameters=True`); this is the second
line of defence for everything else (an exception message quoting an answer, a library logging a payload).
Masking happens when the record is made (the record factory), so every handler sees the masked text,
whoever added it and whatever its level. Standard library only.
"""
from __future__ import annotations

import logging
import re

__all__ = ["mask_personal_data", "PersonalDataFilter", "install_log_masking", "configure_logging", "LOG_FORMAT"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# ASCII classes on purpose: a Chinese character right before a number still lets it match.
_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
# Mainland mobiles as typed or stored: 13812345678, +86 138-1234-5678, 86 138 1234 5678.
_MOBILE = re.compile(_EDGE_BEFORE + r"(?:\+?86[\s-]?)?(1[3-9][0-9])[\s-]?[0-9]{4}[\s-]?([0-9]{4})" + _EDGE_AFTER)
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# Resident ID numbers (15 or 18 characters, the last may be X), bank cards and other long numbers.
_ID_LIKE = re.compile(_EDGE_BEFORE + r"(?:[0-9]{17}[0-9Xx]|[0-9]{15,19})" + _EDGE_AFTER)


def mask_personal_data(message: str) -> str:
    message = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", message)
    message = _ID_LIKE.sub(lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 4) + m.group(0)[-2:], message)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", message)


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_personal_data_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is the caller's bug; log it as given rather than lose it
        message = str(record.msg)
    record.msg, record.args = mask_personal_data(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_personal_data(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info)
    record._personal_data_masked = True
    return record


class PersonalDataFilter(logging.Filter):
    """For a handler of its own: masks what passes through it (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


def install_log_masking() -> None:
    """Masks every record this process creates from now on. Calling it twice installs it once."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_personal_data", False):
        return

    def masking_factory(*args, **kwargs) -> logging.LogRecord:
        return _mask_record(factory(*args, **kwargs))

    masking_factory.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)


def configure_logging(level: int = logging.INFO) -> None:
    """What each long-running process calls first: the log format, and masking on every record."""
    install_log_masking()
    logging.basicConfig(level=level, format=LOG_FORMAT)
    # aiosqlite logs every statement with its parameters at DEBUG, past hide_parameters: names included.
    logging.getLogger("aiosqlite").setLevel(max(level, logging.INFO))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
