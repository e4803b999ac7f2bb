"""The `innoeng` command: one argparse tree, each concept's commands in `innoeng.commands.*`."""
from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "build_parser"]

# Each module exposes `register(subparsers)`; the subcommands it adds set `func(args) -> int`.
COMMAND_MODULES = (
    "db",
    "batch",
    "forms",
    "eligibility",
    "sample",
    "match",
    "sandbox",
    "bot",
    "events",
    "notifier",
    "notify",
    "maintenance",
    "console",
    "web",
    "staff",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="innoeng", description="创新工程微专业校企合作计划 服务")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"innoeng.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
