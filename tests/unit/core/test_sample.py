"""`innoeng sample` makes answers its own forms accept, for every seed, at reserved addresses only."""
from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.forms import FORMS, FormContext, validate_all
from core.forms.model import Kind
from core.forms.navigation import visible_steps
from core.sample import SAMPLE_DOMAINS, expert_answers, university_answers

# RFC 2606: example.com/.net/.org and the .example/.test/.invalid/.localhost top-level domains.
RESERVED = ("@example.com", "@example.net", "@example.org", ".example", ".test", ".invalid", ".localhost")


def unanswered(form: str, values: dict, ctx: FormContext) -> list[str]:
    return [s.key for s in visible_steps(FORMS[form], values, ctx)
            if s.question.required and s.question.kind is not Kind.FILE and values.get(s.key) is None]


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), deadline=st.dates(date(2025, 1, 1), date(2034, 12, 31)))
def test_every_seed_gives_applications_the_forms_accept(seed, deadline):
    rng = random.Random(seed)
    ctx = FormContext(deadline=deadline, today=deadline - timedelta(days=30))
    for index in range(4):
        for form, answers in (("expert", expert_answers(rng, deadline=deadline, index=index)),
                              ("university", university_answers(rng, today=ctx.today, index=index))):
            values, problems = validate_all(FORMS[form], answers, ctx)
            assert problems == {}, (seed, form)
            assert unanswered(form, values, ctx) == [], (seed, form)
            address = values["email" if form == "expert" else "contact_email"]
            assert address.endswith(RESERVED), address


def test_the_seed_that_used_to_crash_and_the_domains():
    test_every_seed_gives_applications_the_forms_accept.hypothesis.inner_test(seed=45112, deadline=date(2025, 8, 15))
    assert all(("@" + d).endswith(RESERVED) for d in SAMPLE_DOMAINS)
