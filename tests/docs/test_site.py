"""The documentation site builds in strict mode (a broken link or anchor fails), and the README
stays a front page (issue 22). Runs in `make test`'s `docs` step, with .venv-docs's mkdocs."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from docs_pages import DOCS

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = ROOT / ".venv-docs" / "bin" / "mkdocs"
README = (ROOT / "README.md").read_text()


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    # Never -q: mkdocs then drops the warnings that --strict counts, and a broken anchor passes.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_is_one_screen_or_two() -> None:
    assert len(README.splitlines()) <= 150


def test_readme_front_page_names_the_two_commands_and_the_costs() -> None:
    assert "make up " in README and "make test " in README
    assert "<!-- cost-table:headline:begin -->" in README


@pytest.mark.parametrize("target", sorted(set(re.findall(r"\]\((docs/[^)#]+\.md)(?:#[^)]*)?\)", README))))
def test_readme_links_to_docs_pages_that_exist(target: str) -> None:
    assert (ROOT / target).is_file(), f"README links to {target}, which does not exist"


def test_readme_anchors_into_docs_exist() -> None:
    for target, anchor in re.findall(r"\]\((docs/[^)#]+\.md)#([^)]+)\)", README):
        headings = re.findall(r"^#+ (.*)$", (DOCS / target.removeprefix("docs/")).read_text(), re.MULTILINE)
        slugs = {re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", h.replace("`", "")).strip().lower()) for h in headings}
        assert anchor in slugs, f"README links to {target}#{anchor}: no such heading"
