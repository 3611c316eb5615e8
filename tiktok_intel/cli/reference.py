"""``tiktok-intel commands``: every command and what it does, from the parser itself (the README's
command reference is this table; a test keeps the two in agreement)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "commands",
        help="every command with its one-line help",
        description="List every command and subcommand with its one-line help (`--help` on each for more).",
    )
    p.add_argument("--markdown", action="store_true", help="print them as the README's Markdown table")
    p.set_defaults(handler=_commands)


def commands(parser: argparse.ArgumentParser, prefix: str = "tiktok-intel") -> Iterator[tuple[str, str]]:
    """(command line, help) for every subcommand of ``parser``, nested ones after their parent."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            yield f"{prefix} {name}", helps.get(name) or ""
            yield from commands(sub, f"{prefix} {name}")


def reference_markdown() -> str:
    from . import build_parser

    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| `{command}` | {text.replace('%%', '%')} |" for command, text in commands(build_parser())]
    return "\n".join(lines)


def _commands(args: argparse.Namespace) -> int:
    from . import build_parser

    if args.markdown:
        print(reference_markdown())
        return 0
    rows = list(commands(build_parser()))
    width = max(len(c) for c, _ in rows)
    for command, text in rows:
        print(f"{command:<{width}}  {text}")
    return 0
