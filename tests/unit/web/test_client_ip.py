"""Sign-in throttles count per visitor address: behind a trusted reverse proxy the address it saw, never one
a visitor wrote into X-Forwarded-For themselves."""
from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from web.keys import CORE
from web.security import client_ip


def request(remote: str, forwarded: str | None, trusted: list[str]):
    app = web.Application()
    app[CORE] = SimpleNamespace(settings=SimpleNamespace(web_trusted_proxies=trusted))
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    made = make_mocked_request("GET", "/signin", headers=headers, app=app)
    return mock.Mock(wraps=made, remote=remote, headers=made.headers, app=app)


def test_without_a_trusted_proxy_the_connection_is_the_visitor_and_the_header_is_ignored():
    assert client_ip(request("203.0.113.7", "1.2.3.4", [])) == "203.0.113.7"


def test_behind_the_proxy_the_hop_it_added_is_the_visitor():
    assert client_ip(request("10.0.0.2", "203.0.113.7", ["10.0.0.2"])) == "203.0.113.7"


def test_a_forged_hop_further_left_is_never_read():
    assert client_ip(request("10.0.0.2", "6.6.6.6, 203.0.113.7", ["10.0.0.2"])) == "203.0.113.7"


def test_two_proxies_in_a_row_are_both_skipped():
    assert client_ip(request("10.0.0.3", "203.0.113.7, 10.0.0.2", ["10.0.0.2", "10.0.0.3"])) == "203.0.113.7"


def test_a_trusted_proxy_without_the_header_counts_as_itself():
    assert client_ip(request("10.0.0.2", None, ["10.0.0.2"])) == "10.0.0.2"
