"""MkDocs hook: the Releases page (docs/releases.md) is CHANGELOG.md, the one file a release edits.

The changelog lives at the repository root, where GitHub and packagers look for it, so its links
point into docs/ (`docs/deploy/gcp.md`); on the site they are relative to docs/ (`deploy/gcp.md`),
and --strict then checks each of them and its anchor like any other page's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
PAGE = "releases.md"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    return re.sub(r"\]\(docs/", "](", CHANGELOG.read_text())
