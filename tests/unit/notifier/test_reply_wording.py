"""No text invites a reply unless MAIL_REPLY_TO is configured; when it is, replies reach it
(Reply-To header, calendar organizer, the wording names it)."""
from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import jinja2
import pytest
import vobject
from jinja2 import nodes

from notifier.composing import Composer, OutboxItem
from notifier.mail import build_email_message, message_bytes
from notifier.rendering import DEFAULT_TEMPLATES_DIR, build_environment

# "reply to this e-mail", "reply to the branch's e-mail", "write to …": an invitation to answer by mail.
INVITES_REPLY = re.compile(r"回复(本邮件|分会|邮件)|发邮件至")
TEMPLATES = sorted(
    str(p.relative_to(DEFAULT_TEMPLATES_DIR)) for p in Path(DEFAULT_TEMPLATES_DIR).rglob("*") if p.is_file()
)


def _uses_reply_to(test: nodes.Node) -> bool:
    names = [test, *test.find_all(nodes.Name)]
    return any(isinstance(name, nodes.Name) and name.name == "reply_to" for name in names)


def _unguarded_invitations(node: nodes.Node, guarded: bool = False) -> list[str]:
    found = []
    if isinstance(node, nodes.TemplateData) and not guarded and INVITES_REPLY.search(node.data):
        found.append(node.data.strip())
    if isinstance(node, nodes.If):
        positive = _uses_reply_to(node.test) and not isinstance(node.test, nodes.Not)
        for child in node.body:
            found += _unguarded_invitations(child, guarded or positive)
        for child in [*node.elif_, *node.else_]:
            found += _unguarded_invitations(child, guarded)
        return found
    for child in node.iter_child_nodes():
        found += _unguarded_invitations(child, guarded)
    return found


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_invitation_to_reply_is_shown_only_when_a_reply_address_is_set(template):
    environment = build_environment()
    source = environment.loader.get_source(environment, template)[0]
    assert _unguarded_invitations(environment.parse(source)) == []


def test_the_check_catches_an_unguarded_invitation():
    environment = jinja2.Environment()
    assert _unguarded_invitations(environment.parse("如有疑问，请直接回复本邮件。"))
    assert _unguarded_invitations(environment.parse("{% if not reply_to %}请直接回复本邮件{% endif %}"))
    assert not _unguarded_invitations(environment.parse("{% if reply_to %}请直接回复本邮件{% endif %}"))


EVENT = {
    "event_id": 7, "sequence": 2, "kind": "workshop", "kind_label": "岗前示范交流活动", "title": "创新方法, 第一讲; 线下",
    "starts_at": "2025-09-01T09:00:00+08:00", "ends_at": "2025-09-01T11:30:00+08:00", "venue": "北京市海淀区某某大厦 3 层",
    "online_url": "https://meeting.example.org/j/123", "description": "请携带身份证。\n第二行说明",
    "invitation_id": 11, "name": "王建国",
}


def _compose(kind: str, payload: dict, *, reply_to: str | None):
    composer = Composer(mail_from="noreply@innoeng.test", reply_to=reply_to)
    spec = composer.email(OutboxItem(1, kind, "email", "wang@example.cn", f"{kind}:t", payload))
    return spec, message_from_bytes(message_bytes(build_email_message(spec, sender="分会 <noreply@innoeng.test>")),
                                    policy=default_policy)


def _bodies(message) -> str:
    return "".join(part.get_content() for part in message.walk() if part.get_content_type().startswith("text/")
                   and part.get_content_type() != "text/calendar")


@pytest.mark.parametrize("kind", ["workshop_invitation", "workshop_updated", "workshop_reminder"])
def test_with_a_reply_address_mail_and_calendar_point_to_it(kind):
    _, message = _compose(kind, EVENT | {"lead": "T-1d"}, reply_to="contact@branch.example.org")
    assert message["Reply-To"] == "contact@branch.example.org"
    body = _bodies(message)
    assert "contact@branch.example.org" in body and "回复本邮件" in body
    if kind != "workshop_reminder":
        calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar").get_content()
        organizer = vobject.readOne(calendar).vevent.organizer
        assert organizer.value == "mailto:contact@branch.example.org"


@pytest.mark.parametrize("kind", ["workshop_invitation", "workshop_updated", "workshop_reminder"])
def test_without_a_reply_address_nothing_invites_a_reply(kind):
    _, message = _compose(kind, EVENT | {"lead": "T-1d"}, reply_to=None)
    assert message["Reply-To"] is None
    body = _bodies(message)
    assert not INVITES_REPLY.search(body)
    assert "请勿直接回复" in body


def test_rejection_asks_for_a_reply_only_when_someone_reads_it():
    payload = {"application_id": 3, "form": "expert", "name": "王建国", "reference": "E01-000003", "batch": "第一批",
               "message": "工作年限不足 3 年"}
    _, without = _compose("review_rejected", payload, reply_to=None)
    _, with_reply = _compose("review_rejected", payload, reply_to="contact@branch.example.org")
    assert not INVITES_REPLY.search(_bodies(without)) and "分会公布的联系方式" in _bodies(without)
    assert "请直接回复本邮件，并注明编号 E01-000003" in _bodies(with_reply)
    assert with_reply["Reply-To"] == "contact@branch.example.org"
