"""Signed links (core.links): one person, one purpose, one object, until they expire; altered ones open nothing."""
from __future__ import annotations

import os
import stat
import threading
from datetime import datetime, timedelta, timezone

import pytest

from core.links import LinkInvalid, LinkService, file_secret, link_path, path_for
from core.settings import Settings

NOW = datetime(2025, 8, 21, 2, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def links(clock) -> LinkService:
    return LinkService(b"k" * 32, clock=clock)


def test_a_link_opens_to_its_person_purpose_and_object(links):
    token = links.make(7, "proposal", 12, NOW + timedelta(days=5))
    grant = links.open(token)
    assert (grant.person_id, grant.purpose, grant.object_id) == (7, "proposal", 12)
    assert grant.expires_at == NOW + timedelta(days=5)
    assert grant.path == "/proposals/12"
    assert links.open(token) == grant, "links are re-openable until they expire"
    assert links.open(token, purpose="proposal") == grant
    # Short, and only characters that mail clients and SMS apps keep inside a link.
    assert len(token) < 60 and set(token) <= set("abcdefghijklmnopqrstuvwxyz0123456789.")
    assert links.url("https://web.example.org/", token) == f"https://web.example.org/l/{token}"


def test_without_an_expiry_a_link_lasts_thirty_days(links, clock):
    grant = links.open(links.make(3, "status", 42))
    assert grant.expires_at == NOW + timedelta(days=30)
    assert grant.path == "/status"


@pytest.mark.parametrize("purpose, object_id, path", [
    ("status", 1, "/status"), ("needs_info", 5, "/apply"), ("apply", 5, "/apply"), ("candidates", 9, "/candidates"),
    ("universities", 9, "/universities"), ("proposal", 12, "/proposals/12"), ("event", 4, "/events/4"),
])
def test_each_purpose_has_its_page(links, purpose, object_id, path):
    grant = links.open(links.make(1, purpose, object_id))
    assert (grant.purpose, grant.object_id, grant.path) == (purpose, object_id, path)
    assert path_for(purpose, object_id) == path


def test_an_expired_link_is_refused(links, clock):
    token = links.make(7, "proposal", 12, NOW + timedelta(hours=1))
    clock.now = NOW + timedelta(hours=1)
    with pytest.raises(LinkInvalid) as refused:
        links.open(token)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize("change", [
    lambda t: t.replace(".p.", ".e.", 1),  # another purpose
    lambda t: t.split(".")[0][:-1] + "8." + ".".join(t.split(".")[1:]),  # another person
    lambda t: ".".join(t.split(".")[:2] + ["13"] + t.split(".")[3:]),  # another object
    lambda t: ".".join(t.split(".")[:3] + ["zzzzzz"] + t.split(".")[4:]),  # a later expiry
    lambda t: t[:-1] + ("a" if t[-1] != "a" else "b"),  # the signature
])
def test_an_altered_link_is_refused(links, change):
    token = links.make(7, "proposal", 12, NOW + timedelta(days=5))
    altered = change(token)
    assert altered != token
    with pytest.raises(LinkInvalid) as refused:
        links.open(altered)
    assert refused.value.reason == "altered"


def test_a_link_signed_with_another_secret_is_refused(links, clock):
    other = LinkService(b"o" * 32, clock=clock).make(7, "proposal", 12, NOW + timedelta(days=5))
    with pytest.raises(LinkInvalid) as refused:
        links.open(other)
    assert refused.value.reason == "altered"


@pytest.mark.parametrize("token", ["", "abc", "1.p.12.x", "a.b.c.d.e.f", "2x.p.12.abc.mac", "1.p.1 2.abc.mac", "x" * 300])
def test_what_is_not_a_link_is_unknown(links, token):
    with pytest.raises(LinkInvalid) as refused:
        links.open(token)
    assert refused.value.reason == "unknown"


def test_a_link_for_another_page_is_refused_as_wrong_purpose(links):
    token = links.make(7, "event", 4)
    with pytest.raises(LinkInvalid) as refused:
        links.open(token, purpose="proposal")
    assert refused.value.reason == "wrong_purpose"


def test_unsubscribe_links_name_a_kind_and_point_to_the_unsubscribe_address(links):
    token = links.make(7, "unsubscribe", "workshop_reminder")
    grant = links.open(token, purpose="unsubscribe")
    assert (grant.person_id, grant.object_id) == (7, "workshop_reminder")
    assert link_path(token) == f"/unsubscribe/{token}"
    with pytest.raises(ValueError):
        links.make(7, "proposal", "workshop_reminder")
    with pytest.raises(ValueError):
        links.make(7, "no_such_purpose", 1)


def test_without_link_secret_one_is_made_in_the_data_directory_once_and_kept(tmp_path, clock):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    first = LinkService.from_settings(settings, clock=clock)
    token = first.make(7, "status", 1)
    secret_file = tmp_path / "data" / "link_secret"
    assert secret_file.exists() and stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    # A restart (a new service over the same directory) opens the links sent before it.
    assert LinkService.from_settings(settings, clock=clock).open(token).person_id == 7
    # With LINK_SECRET set, that secret signs instead.
    configured = LinkService.from_settings(Settings(_env_file=None, data_dir=tmp_path / "data", link_secret="s" * 40),
                                           clock=clock)
    with pytest.raises(LinkInvalid):
        configured.open(token)


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    path = tmp_path / "link_secret"
    secrets_seen: list[bytes] = []
    threads = [threading.Thread(target=lambda: secrets_seen.append(file_secret(path)())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(secrets_seen)) == 1 and len(secrets_seen) == 8
    assert [p.name for p in tmp_path.iterdir()] == ["link_secret"]


def test_a_link_covers_its_page_and_what_its_buttons_reach_under_it_but_no_other_page(links):
    event = links.open(links.make(7, "event", 5))
    assert event.covers("/events/5") and event.covers("/events/5.ics")
    assert not event.covers("/events/51") and not event.covers("/events") and not event.covers("/status")
    assert event.cookie_path == "/events"
    candidates = links.open(links.make(7, "candidates", 3))
    assert candidates.covers("/candidates/12") and candidates.covers("/candidates/more")
    assert not candidates.covers("/universities/12") and not candidates.covers("/candidatesx")
