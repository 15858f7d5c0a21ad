"""Releases a user can follow (issue 22): one version, the changelog's newest entry names it,
and `make help` shows it."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# Keep a Changelog's release headings: "## [1.2.0] - 2026-12-06" ("## [Unreleased]" has no date).
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def test_the_newest_changelog_entry_is_the_projects_version() -> None:
    releases = RELEASE.findall(CHANGELOG)
    assert releases, "CHANGELOG.md has no '## [x.y.z] - YYYY-MM-DD' release"
    assert releases[0][0] == VERSION, (
        f"CHANGELOG.md's newest release is {releases[0][0]}, pyproject.toml says {VERSION}"
    )


def test_releases_are_newest_first_and_unreleased_on_top() -> None:
    headings = re.findall(r"^## (.*)$", CHANGELOG, re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    versions = [tuple(int(part) for part in version.split(".")) for version, _ in RELEASE.findall(CHANGELOG)]
    assert versions == sorted(versions, reverse=True)
    dates = [date for _, date in RELEASE.findall(CHANGELOG)]
    assert dates == sorted(dates, reverse=True)


def test_make_help_shows_the_version() -> None:
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"airflow-platform {VERSION} " in result.stdout


def test_the_site_has_a_releases_page_built_from_the_changelog() -> None:
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    assert "releases.md" in mkdocs and "scripts/mkdocs_changelog.py" in mkdocs
