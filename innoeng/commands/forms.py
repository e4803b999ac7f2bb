from __future__ import annotations

import argparse
import json
from typing import Any

from core.forms import FORMS, FollowUp, Question


def register(subparsers: argparse._SubParsersAction) -> None:
    forms = subparsers.add_parser("forms", help="问卷").add_subparsers(dest="forms_command", required=True)
    show = forms.add_parser("show", help="显示问卷的题目、题型、选项和显示条件")
    show.add_argument("form", choices=sorted(FORMS))
    show.add_argument("--json", action="store_true", help="以 JSON 输出")
    show.set_defaults(func=_show)


def describe_question(question: Question) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": question.key,
        "kind": question.kind.value,
        "label": question.label,
        "prompt": question.prompt,
        "required": question.required,
    }
    if question.choices:
        data["choices"] = [{"value": c.value, "label": c.label} for c in question.choices]
    limits = {
        name: getattr(question, name)
        for name in ("min_length", "max_length", "min_value", "max_value", "min_picks", "max_picks", "min_files", "max_files")
        if getattr(question, name) is not None
    }
    for name in ("min_date", "max_date"):
        if getattr(question, name) is not None:
            limits[name] = getattr(question, name).isoformat()
    if question.past_only:
        limits["not_after_today"] = True
    if question.must_be_yes:
        limits["must_be_yes"] = True
    if limits:
        data["limits"] = limits
    if question.help:
        data["rule"] = question.help
    if question.sensitive:
        data["sensitive"] = True
    if question.condition is not None:
        data["shown_when"] = {"description": question.condition.describe, "depends_on": list(question.condition.depends_on)}
    return data


def describe_form(kind: str) -> dict[str, Any]:
    form = FORMS[kind]
    entries = []
    for entry in form.entries:
        if isinstance(entry, FollowUp):
            entries.append({
                "key": entry.key,
                "kind": "follow_up",
                "label": entry.label,
                "for_each_item_of": entry.source,
                "step_key": f"{entry.key}[<item>].<question>",
                "questions": [describe_question(q) for q in entry.questions],
            })
        else:
            entries.append(describe_question(entry))
    return {"form": form.kind, "title": form.title, "intro": form.intro, "questions": entries}


def _show(args: argparse.Namespace) -> int:
    data = describe_form(args.form)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{data['title']}（{data['form']}）\n{data['intro']}\n")
    for number, entry in enumerate(data["questions"], start=1):
        _print_entry(number, entry, indent="")
    return 0


def _print_entry(number: int, entry: dict[str, Any], indent: str) -> None:
    required = "必答" if entry.get("required", True) else "选答"
    print(f"{indent}{number}. [{entry['key']}] {entry['label']}（{entry['kind']}，{required}）")
    if entry["kind"] == "follow_up":
        print(f"{indent}   对「{entry['for_each_item_of']}」中选中的每一项分别回答：")
        for sub_number, question in enumerate(entry["questions"], start=1):
            _print_entry(sub_number, question, indent + "   ")
        return
    print(f"{indent}   {entry['prompt']}")
    if "choices" in entry:
        print(f"{indent}   选项：" + "、".join(f"{c['label']}({c['value']})" for c in entry["choices"]))
    if "limits" in entry:
        print(f"{indent}   限制：" + "，".join(f"{k}={v}" for k, v in entry["limits"].items()))
    if "shown_when" in entry:
        print(f"{indent}   显示条件：{entry['shown_when']['description']}")
