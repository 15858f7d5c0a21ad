"""Every command in a shell block of docs/ and README.md is one the tests run or check (issue 22).

The commands of every ```bash / ```sh / ```shell / ```console block are read, a line at a time
(comments dropped, `\\` continuations joined, split at `|`, `&&`, `||`, `;` and `&`, the
commands inside `$( )` read too) and each must match a rule:
- `make <target> [VAR=value ...]`: the target exists in the Makefile and every variable is one
  the Makefile reads;
- `pulumi config set [--secret] [--path] <key> <value>`: `components.config_keys` declares the
  key (a dotted key needs `--path`, else Pulumi stores one flat key the validator refuses);
- `pulumi stack output <name>`: the program exports that name (components/stack.py);
- `python -m <module>` and `scripts/<file>`: the module or the script exists;
- the CLIs that cannot run here (pulumi beyond the above, gcloud, aws, kubectl, ...): the
  subcommand and each flag are in CLI_TABLE below, which names the reference each relies on.
- `pg_dump` / `pg_restore`: the runtime test that rehearses them runs them with those flags;
- every word that names a file of the repository (`scripts/...`, `Pulumi.<stack>.yaml`) exists.
A command that no rule covers fails the test: a new command on a page needs a rule or a row.
`make ...` in inline code of the prose is checked by the make rule too; a command in a fenced
block that is not labelled as a shell fails (it would escape the checks).
"""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from docs_pages import DOCS

from components import config_keys

ROOT = DOCS.parent
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}

# The subcommands (the words up to the first flag or operand) and the flags that the pages run
# with a CLI these tests cannot run, and where each is documented. A page that uses another
# subcommand or flag fails until a row with its source is added here.
CLI_TABLE: dict[tuple[str, ...], tuple[frozenset[str], str]] = {
    ("pulumi", "login"): (
        frozenset(),
        "https://www.pulumi.com/docs/iac/cli/commands/pulumi_login/ (gs://, s3:// URLs)",
    ),
    ("pulumi", "stack", "init"): (
        frozenset({"--secrets-provider"}),
        "https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack_init/ (gcpkms://, awskms:// providers)",
    ),
    ("pulumi", "stack"): (
        frozenset({"--show-urns", "--stack"}),
        "https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack/",
    ),
    ("pulumi", "state", "unprotect"): (
        frozenset({"--all", "--stack"}),
        "https://www.pulumi.com/docs/iac/cli/commands/pulumi_state_unprotect/",
    ),
    ("aws", "configure", "sso"): (
        frozenset(),
        "https://docs.aws.amazon.com/cli/latest/reference/configure/sso.html",
    ),
    ("aws", "sso", "login"): (frozenset(), "https://docs.aws.amazon.com/cli/latest/reference/sso/login.html"),
    ("aws", "sts", "get-caller-identity"): (
        frozenset(),
        "https://docs.aws.amazon.com/cli/latest/reference/sts/get-caller-identity.html",
    ),
    ("aws", "eks", "update-kubeconfig"): (
        frozenset({"--name", "--region"}),
        "https://docs.aws.amazon.com/cli/latest/reference/eks/update-kubeconfig.html",
    ),
    ("aws", "eks", "update-cluster-config"): (
        frozenset({"--name", "--no-deletion-protection"}),
        "https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html",
    ),
    ("aws", "rds", "modify-db-instance"): (
        frozenset({"--db-instance-identifier", "--no-deletion-protection"}),
        "https://docs.aws.amazon.com/cli/latest/reference/rds/modify-db-instance.html",
    ),
    ("kubectl", "port-forward"): (
        frozenset({"-n"}),
        "https://kubernetes.io/docs/reference/kubectl/generated/kubectl_port-forward/",
    ),
    ("gcloud", "components", "install"): (
        frozenset(),
        "https://cloud.google.com/sdk/gcloud/reference/components/install (gke-gcloud-auth-plugin: "
        "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl)",
    ),
    ("gcloud", "auth", "application-default", "login"): (
        frozenset(),
        "https://cloud.google.com/sdk/gcloud/reference/auth/application-default/login",
    ),
    ("gcloud", "sql", "instances", "clone"): (
        frozenset({"--point-in-time"}),
        "https://cloud.google.com/sdk/gcloud/reference/sql/instances/clone",
    ),
    ("gcloud", "sql", "backups", "restore"): (
        frozenset({"--restore-instance"}),
        "https://cloud.google.com/sdk/gcloud/reference/sql/backups/restore",
    ),
    ("aws", "rds", "restore-db-instance-to-point-in-time"): (
        frozenset(
            {
                "--source-db-instance-identifier",
                "--target-db-instance-identifier",
                "--restore-time",
                "--db-subnet-group-name",
                "--vpc-security-group-ids",
            }
        ),
        "https://docs.aws.amazon.com/cli/latest/reference/rds/restore-db-instance-to-point-in-time.html",
    ),
    # The shell itself: the quickstart sets the file backend's passphrase (scripts/pulumi.sh reads it).
    ("export",): (frozenset(), "bash(1); PULUMI_CONFIG_PASSPHRASE: scripts/pulumi.sh"),
    # Plain tools of a POSIX shell (the page pipes an output through them).
    ("curl",): (frozenset({"-s"}), "curl(1)"),
    ("grep",): (frozenset(), "grep(1)"),
}

# The flags above written `--flag value` (not `--flag=value`): the word after them is no subcommand.
VALUE_FLAGS = {
    "-n",
    "--name",
    "--region",
    "--stack",
    "--secrets-provider",
    "--db-instance-identifier",
    "--source-db-instance-identifier",
    "--target-db-instance-identifier",
    "--restore-time",
    "--db-subnet-group-name",
    "--vpc-security-group-ids",
}

# Commands the test suite itself runs, checked against the test that runs them: the program and
# every flag a page gives it appear in that test (the backup-restore rehearsal, tests/runtime).
RUN_BY_TESTS = {
    "pg_dump": "tests/runtime/test_backup_restore.py",
    "pg_restore": "tests/runtime/test_backup_restore.py",
}

# Flags of `pulumi stack output` and `pulumi config set` (https://www.pulumi.com/docs/iac/cli/commands/).
STACK_OUTPUT_FLAGS = {"--show-secrets", "--stack", "--json"}
CONFIG_SET_FLAGS = {"--secret", "--path", "--stack", "--plaintext"}


@dataclass(frozen=True)
class Command:
    where: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: {shlex.join(self.words)}"


# A fenced block, also indented inside a list item: its indent, language and body.
FENCE = re.compile(r"^( *)```(\w*)[^\n]*\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line number, language, dedented body) of each fenced block."""
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(2), textwrap.dedent(match.group(3)))
        for match in FENCE.finditer(text)
    ]


def shell_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, body) of each fenced block whose language is a shell."""
    return [(line, body) for line, language, body in fenced_blocks(text) if language in SHELL_LANGUAGES]


def substitutions(line: str) -> list[str]:
    """The commands inside `$( )` in a line (not nested)."""
    return re.findall(r"\$\(([^()]*)\)", line)


def split_commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line, each as its words (redirections dropped).

    A `<placeholder>` the reader fills in is one word, whatever it holds."""
    line = re.sub(r"<[^<>]*[A-Za-z][^<>]*>", "PLACEHOLDER", line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    redirect = False
    for token in lexer:
        if token in {"|", "||", "&&", ";", "&"}:
            commands.append([])
        elif token in {">", ">>", "<", "2>"}:
            redirect = True
        elif redirect:
            redirect = False
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def commands_in(path: Path) -> list[Command]:
    text = path.read_text()
    name = str(path.relative_to(ROOT))
    found = []
    for first_line, body in shell_blocks(text):
        lines = body.replace("\\\n", " ").splitlines()
        for offset, line in enumerate(lines):
            where = f"{name}:{first_line + offset}"
            for inner in substitutions(line):
                found.extend(Command(where, tuple(words)) for words in split_commands(inner))
            outer = re.sub(r"\$\([^()]*\)", "SUBSTITUTED", line)
            for words in split_commands(outer):
                # Leading VAR=value assignments set the environment of the command that follows.
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
                    words = words[1:]
                if words and words != ["SUBSTITUTED"]:
                    found.append(Command(where, tuple(words)))
    return found


def documented_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


ALL_COMMANDS = [command for path in documented_files() for command in commands_in(path)]


def inline_make_commands(path: Path) -> list[Command]:
    """`make ...` in inline code of the prose (outside fenced blocks): the same make rule applies."""
    text = FENCE.sub("", path.read_text())
    name = str(path.relative_to(ROOT))
    return [
        Command(name, tuple(words))
        for span in re.findall(r"`(make [^`]+)`", text)
        for words in split_commands(span)
        if words[0] == "make"
    ]


INLINE_MAKE = [command for path in documented_files() for command in inline_make_commands(path)]


# --- what the repository offers ------------------------------------------------------------------
MAKEFILE = (ROOT / "Makefile").read_text()
MAKE_TARGETS = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.MULTILINE))
MAKE_VARIABLES = set(re.findall(r"\$\(([A-Z][A-Z_]*)\)", MAKEFILE))


def stack_outputs() -> set[str]:
    tree = ast.parse((ROOT / "components" / "stack.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "export"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def config_key_problem(key: str, flags: set[str]) -> str | None:
    namespace, _, path = key.rpartition(":")
    if namespace and namespace != config_keys.PROJECT:
        return f"{key} is not in the {config_keys.PROJECT}: namespace"
    if "." in path and "--path" not in flags:
        return f"{key} is dotted: without --path Pulumi stores one flat key the validator refuses"
    dotted = re.sub(r"\[\d+\]", "", path)
    if config_keys.declared(dotted) is None:
        return f"{dotted} is not a key components/config_keys.py declares"
    return None


def module_exists(module: str) -> bool:
    base = ROOT.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__main__.py").is_file()


# A word that names a file of this repository: under one of its folders, or a stack file.
REPO_PATH = re.compile(
    r"^(components|review|scripts|tests|dags|docs|bootstrap|policy|monitoring|schema|\.github)/[\w./-]*$"
    r"|^Pulumi\.[\w-]+\.yaml$"
)


def problem(words: tuple[str, ...]) -> str | None:
    """Why a command is not one the tests cover, or None when a rule checks it."""
    program, *args = words
    missing = [word for word in words if REPO_PATH.match(word) and not (ROOT / word).exists()]
    if missing:
        return f"{', '.join(missing)} does not exist in the repository"
    flags = {arg.split("=", 1)[0] for arg in args if arg.startswith("-")}
    if program == "make":
        variables = [arg.split("=", 1)[0] for arg in args if "=" in arg]
        targets = [arg for arg in args if "=" not in arg]
        unknown = [target for target in targets if target not in MAKE_TARGETS]
        if unknown:
            return f"no make target {', '.join(unknown)} in the Makefile"
        unread = [variable for variable in variables if variable not in MAKE_VARIABLES]
        if unread:
            return f"the Makefile reads no variable {', '.join(unread)}"
        return None
    if program.startswith("scripts/"):
        script = ROOT / program
        return None if script.is_file() else f"{program} does not exist"
    if program in {"python", "python3", ".venv/bin/python"} and args[:1] == ["-m"]:
        return None if len(args) > 1 and module_exists(args[1]) else f"no module {args[1:2]}"
    if program == "pulumi" and args[:2] == ["config", "set"]:
        operands = [arg for arg in args[2:] if not arg.startswith("-")]
        if flags - CONFIG_SET_FLAGS:
            return f"flags {sorted(flags - CONFIG_SET_FLAGS)} not in CONFIG_SET_FLAGS"
        if not operands:
            return "pulumi config set without a key"
        return config_key_problem(operands[0], flags)
    if program == "pulumi" and args[:2] == ["stack", "output"]:
        operands = [arg for arg in args[2:] if not arg.startswith("-")]
        if flags - STACK_OUTPUT_FLAGS:
            return f"flags {sorted(flags - STACK_OUTPUT_FLAGS)} not in STACK_OUTPUT_FLAGS"
        missing = [name for name in operands if name not in stack_outputs()]
        return f"the stack exports no output {', '.join(missing)}" if missing else None
    if program in RUN_BY_TESTS:
        test = (ROOT / RUN_BY_TESTS[program]).read_text()
        # A flag the test fills from a variable (`--file={DUMP_FILE}`) may take any value on the page.
        untested = [
            arg for arg in args if arg.startswith("-") and arg not in test and f"{arg.split('=', 1)[0]}={{" not in test
        ]
        if f"{program} " not in test:
            return f"{RUN_BY_TESTS[program]} does not run {program}"
        return f"{RUN_BY_TESTS[program]} does not run {program} {' '.join(untested)}" if untested else None
    return cli_problem(words)


def cli_problem(words: tuple[str, ...]) -> str | None:
    """A command of a CLI that cannot run here: its subcommand and flags must be a CLI_TABLE row.

    Flags may come before the subcommand (`kubectl -n airflow port-forward`)."""
    rows = [row for row in CLI_TABLE if row[0] == words[0] and _matches(row, words)]
    if not rows:
        return f"no rule and no CLI_TABLE row covers {' '.join(words[:3])}"
    row = max(rows, key=len)
    allowed, _source = CLI_TABLE[row]
    unknown = {word.split("=", 1)[0] for word in words if word.startswith("-")} - allowed
    if unknown:
        return f"flags {sorted(unknown)} of {' '.join(row)} are not in its CLI_TABLE row"
    return None


def _matches(row: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """Whether the command's subcommand words are exactly the row (flags and their values aside)."""
    plain = [word for index, word in enumerate(words) if not word.startswith("-") and not _is_flag_value(words, index)]
    return tuple(plain[: len(row)]) == row and (len(plain) == len(row) or not _is_subcommand_word(plain, len(row)))


def _is_flag_value(words: tuple[str, ...], index: int) -> bool:
    previous = words[index - 1] if index else ""
    return previous in VALUE_FLAGS


def _is_subcommand_word(plain: list[str], index: int) -> bool:
    """A longer row exists for these words: `pulumi stack init` is not `pulumi stack`."""
    return any(row[: index + 1] == tuple(plain[: index + 1]) for row in CLI_TABLE if len(row) > index)


COMMAND_WORDS = ("make ", "pulumi ", "kubectl ", "gcloud ", "aws ", "scripts/", "python ")


def test_blocks_of_commands_are_shell_blocks() -> None:
    # A command in an unlabelled (or ```text) block would escape the checks above.
    for path in documented_files():
        text = path.read_text()
        for _line, language, body in fenced_blocks(text):
            if language in SHELL_LANGUAGES:
                continue
            for line in body.splitlines():
                assert not line.lstrip("$ ").startswith(COMMAND_WORDS), (
                    f"{path.relative_to(ROOT)}: a command in a ```{language} block, not ```bash: {line}"
                )


def test_the_pages_have_commands_to_check() -> None:
    # The extraction itself: a change of fence style must not leave nothing to check.
    assert len(ALL_COMMANDS) >= 20
    assert any(command.words[0] == "make" for command in ALL_COMMANDS)
    # A fence indented inside a numbered step (the deploy checklists) is read too.
    assert any(
        command.where.startswith("docs/deploy/gcp.md") and command.words[0] == "gcloud" for command in ALL_COMMANDS
    )


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=str)
def test_every_command_on_a_page_is_checked(command: Command) -> None:
    reason = problem(command.words)
    assert reason is None, f"{command}: {reason}"


@pytest.mark.parametrize("command", INLINE_MAKE, ids=str)
def test_every_make_command_in_the_prose_is_checked(command: Command) -> None:
    reason = problem(command.words)
    assert reason is None, f"{command}: {reason}"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("make deploy STACK=dev", "no make target deploy"),
        ("make plan STACKS=dev", "reads no variable STACKS"),
        ("pulumi config set --path airflow-platform:gcp.projectt acme", "not a key"),
        ("pulumi config set gcp.project acme", "without --path"),
        ("pulumi stack output airflowURL", "no output airflowURL"),
        ("scripts/deploy.sh", "does not exist"),
        ("python -m review.cost --stacks Pulumi.staging.yaml", "Pulumi.staging.yaml does not exist"),
        ("python -m review.nothing", "no module"),
        ("gcloud container clusters get-credentials dev", "no rule"),
        ("kubectl -n airflow delete pod x", "no rule"),
        ("aws eks update-kubeconfig --name x --profile y", "--profile"),
        ("pg_dump --format=plain --file=airflow.sql", "does not run pg_dump --format=plain"),
    ],
)
def test_a_wrong_command_is_refused(line: str, reason: str) -> None:
    # What a page with a typo gets: each rule refuses what it should (so the test above can fail).
    (words,) = split_commands(line)
    found = problem(tuple(words))
    assert found is not None and reason in found, found


@pytest.mark.parametrize(
    "line",
    [
        "make plan-diff STACK=dev BASE=origin/main OUT=diff.md JSON=diff.json",
        "pulumi config set --secret --path 'airflow-platform:alerts.webhook' https://x",
        "pulumi config set --path 'alerts.email[0]' a@example.com",
        "pulumi stack output adminPassword --show-secrets",
        "python -m components.config_reference --write",
    ],
)
def test_a_right_command_passes(line: str) -> None:
    (words,) = split_commands(line)
    assert problem(tuple(words)) is None
