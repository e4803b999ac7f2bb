"""The log filter masks mobiles, e-mails and ID-like numbers in every record, message, arguments and traceback."""
from __future__ import annotations

import io
import logging

import pytest

from core.log_masking import PersonalDataFilter, install_log_masking, mask_personal_data


@pytest.mark.parametrize("raw, hidden, kept", [
    ("mobile 13812345678 given", "13812345678", "138****5678"),
    ("手机+86 138-1234-5678。", "1234", "138****5678"),
    ("电话13900001111", "13900001111", "139****1111"),
    ("mail ZS.li@Example.COM now", "ZS.li@Example.COM", "Z***@Example.COM"),
    ("身份证 11010519491231002X 号", "11010519491231002X", "11**************2X"),
    ("card 6222021234567890123", "6222021234567890123", "62***************23"),
])
def test_personal_data_is_masked(raw, hidden, kept):
    masked = mask_personal_data(raw)
    assert hidden not in masked and kept in masked


@pytest.mark.parametrize("harmless", [
    "update 123456789 handled in 12 ms", "stored a3f9c0d1e2b3a4f5c6d7e8f901234567.pdf", "2025-08-15 23:59:59",
    "telegram 4242 chat 900001",
])
def test_ordinary_numbers_are_left_alone(harmless):
    assert mask_personal_data(harmless) == harmless


@pytest.fixture
def restore_record_factory():
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def test_every_record_is_masked_whatever_handler_reads_it(restore_record_factory):
    install_log_masking()
    install_log_masking()  # twice is once
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("answers %s", {"mobile": "13812345678", "email": "zs@example.com"})
        try:
            raise ValueError("bad row ('13812345678', 'zs@example.com')")
        except ValueError:
            logger.exception("failed for %s", "zs@example.com")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "13812345678" not in output and "zs@example.com" not in output
    assert "138****5678" in output and "z***@example.com" in output and "ValueError" in output


def test_filter_for_a_handler_of_its_own():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "to %s", ("zs@example.com",), None)
    assert PersonalDataFilter().filter(record) is True
    assert record.getMessage() == "to z***@example.com"
