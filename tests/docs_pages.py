"""The documentation pages under docs/ (issue 22), for the tests that check what they say."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def page(path: str) -> str:
    """The Markdown of docs/<path>, e.g. page("operations/monitoring.md")."""
    return (DOCS / path).read_text()


def section(path: str, heading: str) -> str:
    """The section of docs/<path> under the heading `heading` (its text, any level), up to the next
    heading of the same or a higher level; fenced code blocks are not headings."""
    text = page(path)
    lines = text.splitlines()
    fence = False
    start = level = None
    for index, line in enumerate(lines):
        if line.startswith("```"):
            fence = not fence
            continue
        match = re.match(r"^(#+) (.*)$", line)
        if fence or not match:
            continue
        depth = len(match.group(1))
        if start is None and match.group(2).strip() == heading:
            start, level = index, depth
        elif start is not None and level is not None and depth <= level:
            return "\n".join(lines[start:index])
    if start is None:
        raise KeyError(f"docs/{path} has no heading {heading!r}")
    return "\n".join(lines[start:])
