"""docs/operations/backup-restore.md: every cloud CLI command it shows fits that command's documented synopsis.

No cloud and no gcloud / aws CLI here: each command the page shows is parsed and held against the
synopsis its reference page documents (the URLs below, read 2026-12-06) - the command exists, every
flag is one it takes, its required flags and positional arguments are there, the times are RFC 3339.
The pg_dump / pg_restore commands are run by tests/runtime/test_backup_restore.py.
"""

from __future__ import annotations

import datetime
import re
import shlex
from dataclasses import dataclass

import pytest
from docs_pages import page

PAGE = "operations/backup-restore.md"


@dataclass(frozen=True)
class Synopsis:
    source: str
    flags: frozenset[str]
    required: frozenset[str] = frozenset()
    positional: int = 0
    # Flags whose value is a point in time.
    times: frozenset[str] = frozenset()
    # Flags that take no value.
    switches: frozenset[str] = frozenset()


GCLOUD = "https://cloud.google.com/sdk/gcloud/reference/"
AWS_RDS = "https://docs.aws.amazon.com/cli/latest/reference/rds/"
SYNOPSES = {
    "gcloud sql instances clone": Synopsis(
        GCLOUD + "sql/instances/clone",
        frozenset(
            {"--async", "--preferred-zone", "--preferred-secondary-zone", "--point-in-time", "--restore-database-name"}
        ),
        positional=2,
        times=frozenset({"--point-in-time"}),
        switches=frozenset({"--async"}),
    ),
    "gcloud sql instances list": Synopsis(
        GCLOUD + "sql/instances/list",
        frozenset(
            {
                "--filter",
                "--limit",
                "--page-size",
                "--sort-by",
                "--uri",
                "--show-edition",
                "--show-sql-network-architecture",
            }
        ),
        switches=frozenset({"--uri", "--show-edition", "--show-sql-network-architecture"}),
    ),
    "gcloud sql backups list": Synopsis(
        GCLOUD + "sql/backups/list",
        frozenset({"--instance", "--filter", "--limit", "--page-size", "--sort-by", "--uri"}),
        required=frozenset({"--instance"}),
        switches=frozenset({"--uri"}),
    ),
    "gcloud sql backups restore": Synopsis(
        GCLOUD + "sql/backups/restore",
        frozenset({"--restore-instance", "--async", "--backup-instance", "--backup-project"}),
        required=frozenset({"--restore-instance"}),
        positional=1,
        switches=frozenset({"--async"}),
    ),
    "aws rds restore-db-instance-to-point-in-time": Synopsis(
        AWS_RDS + "restore-db-instance-to-point-in-time.html",
        frozenset(
            {
                "--source-db-instance-identifier",
                "--target-db-instance-identifier",
                "--restore-time",
                "--use-latest-restorable-time",
                "--db-instance-class",
                "--port",
                "--availability-zone",
                "--db-subnet-group-name",
                "--multi-az",
                "--publicly-accessible",
                "--vpc-security-group-ids",
                "--db-parameter-group-name",
                "--deletion-protection",
                "--tags",
            }
        ),
        required=frozenset({"--target-db-instance-identifier"}),
        times=frozenset({"--restore-time"}),
        switches=frozenset(
            {"--use-latest-restorable-time", "--multi-az", "--publicly-accessible", "--deletion-protection"}
        ),
    ),
    "aws rds describe-db-instances": Synopsis(
        AWS_RDS + "describe-db-instances.html",
        frozenset({"--db-instance-identifier", "--filters", "--max-records", "--marker"}),
    ),
}
COMMAND = re.compile(r"^\s*((?:gcloud|aws) .+?)\s*$", re.M)
INLINE = re.compile(r"`((?:gcloud|aws) [^`]+)`")


def shown_commands() -> list[str]:
    text = page(PAGE)
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", text, re.S))
    return [*COMMAND.findall(blocks), *INLINE.findall(text)]


def problems(command: str) -> list[str]:
    words = shlex.split(command.replace("<", "").replace(">", ""))
    name = next((known for known in SYNOPSES if words[: len(known.split())] == known.split()), None)
    if name is None:
        return [f"not a command this test knows the synopsis of: {command}"]
    synopsis = SYNOPSES[name]
    found: list[str] = []
    flags: dict[str, str | None] = {}
    positional: list[str] = []
    rest = words[len(name.split()) :]
    while rest:
        word = rest.pop(0)
        if not word.startswith("--"):
            positional.append(word)
            continue
        flag, _, value = word.partition("=")
        if flag not in synopsis.flags:
            found.append(f"{flag} is not a flag of `{name}` ({synopsis.source})")
        elif flag in synopsis.switches:
            flags[flag] = None
        else:
            flags[flag] = value or (rest.pop(0) if rest else "")
    found += [f"`{name}` needs {flag}" for flag in synopsis.required - flags.keys()]
    if len(positional) != synopsis.positional:
        found.append(f"`{name}` takes {synopsis.positional} positional argument(s), the page gives {positional}")
    for flag in synopsis.times & flags.keys():
        try:
            datetime.datetime.fromisoformat(str(flags[flag]).replace("Z", "+00:00"))
        except ValueError:
            found.append(f"{flag} {flags[flag]!r} is not an RFC 3339 time")
    return found


def test_the_page_shows_the_cloud_commands_of_both_clouds() -> None:
    names = {name for command in shown_commands() for name in SYNOPSES if command.startswith(name)}
    assert {"gcloud sql instances clone", "aws rds restore-db-instance-to-point-in-time"} <= names


@pytest.mark.parametrize("command", shown_commands())
def test_each_cloud_command_fits_its_documented_synopsis(command: str) -> None:
    assert not problems(command), problems(command)


def test_a_wrong_flag_or_a_missing_required_one_is_caught() -> None:
    assert problems("gcloud sql instances clone a --point-in-time=2026-12-06T09:00:00Z")  # no destination
    assert problems("gcloud sql backups restore 1")
    assert problems(
        "aws rds restore-db-instance-to-point-in-time --target-db-instance-identifier x --restore-time yesterday"
    )
    assert problems(
        "aws rds restore-db-instance-to-point-in-time --target-db-instance-identifier x --to-time 2026-12-06T09:00:00Z"
    )
