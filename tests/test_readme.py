"""The README and the command line agree: its command reference is what `tiktok-intel commands
--markdown` prints, every `tiktok-intel ...` line in its examples is accepted by the parser, every
`make` target it names exists, and every screenshot it shows is there."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tiktok_intel.cli import build_parser
from tiktok_intel.cli.reference import commands, reference_markdown

PROJECT = Path(__file__).resolve().parents[1]
README = (PROJECT / "README.md").read_text(encoding="utf-8")


def code_lines(text: str) -> list[str]:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines()]


def example_commands() -> list[str]:
    found = []
    for line in code_lines(README):
        line = re.sub(r"\s+#.*$", "", line.strip())
        line = line.rstrip("&").strip()
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith("tiktok-intel "):
                found.append(part)
    return found


def test_the_command_reference_is_generated_from_the_parser():
    assert reference_markdown() in README, "regenerate the README's command table with: tiktok-intel commands --markdown"


def test_every_command_has_a_one_line_help():
    for command, text in commands(build_parser()):
        assert text and "\n" not in text, command


@pytest.mark.parametrize("line", example_commands())
def test_every_example_command_in_the_readme_is_accepted_by_the_cli(line):
    parser = build_parser()
    try:
        args = parser.parse_args(shlex.split(line)[1:])
    except SystemExit as exc:  # argparse refuses with exit code 2
        pytest.fail(f"the README's `{line}` is refused by the CLI (exit {exc.code})")
    assert getattr(args, "handler", None) is not None, f"`{line}` names no command"


def test_the_readme_shows_enough_examples_to_be_checked():
    named = {shlex.split(line)[1] for line in example_commands()}
    assert {"demo", "jobs", "run", "serve", "dashboards", "schedules", "track", "collect", "search"} <= named


def test_make_targets_named_in_the_readme_exist():
    makefile = (PROJECT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    named = set(re.findall(r"`?make ([a-z][a-z-]*)", README))
    assert named and named <= targets, named - targets


def test_every_screenshot_in_the_readme_exists():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(images) >= 6
    for image in images:
        path = PROJECT / image
        assert path.is_file() and path.stat().st_size > 10_000, image
