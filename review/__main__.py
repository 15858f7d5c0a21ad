"""`python -m review plan|plan-diff`: the offline plan of a stack, and what a change does to it.

Exit status: 0, or 1 with a clean message on stderr (no traceback) when the
stack file is missing or invalid, BASE is not a commit, or (`plan`) the plan
has a mandatory violation nobody accepted - written out first. `plan-diff`
reports violations in its Policy section and exits 0, so CI posts the comment.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.validation import ConfigError
from review.diff import BaseRefError, diff_plans, plan_at
from review.plan import StackFileError, build_plan
from review.render import render_diff, render_plan
from review.runner import ROOT


def _write(path: str | None, text: str) -> None:
    if path:
        Path(path).write_text(text)


def _plan(args: argparse.Namespace, root: Path) -> int:
    plan = build_plan(args.stack, root)
    _write(args.out, json.dumps(plan, indent=2, sort_keys=True) + "\n")
    sys.stdout.write(render_plan(plan))
    blocking = sum(1 for violation in plan["policy"]["violations"] if violation["blocking"])
    if blocking:
        print(f"error: {blocking} mandatory policy violation(s), listed under Policy above", file=sys.stderr)
        return 1
    return 0


def _plan_diff(args: argparse.Namespace, root: Path) -> int:
    # BASE first: a mistyped ref fails before the working tree's plan is made.
    base, note = plan_at(args.base, args.stack, root)
    head = build_plan(args.stack, root)
    diff = diff_plans(base, head, ref=args.base, base_note=note)
    text = render_diff(diff)
    _write(args.out, text)
    _write(args.json, json.dumps(diff, indent=2, sort_keys=True) + "\n")
    sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    """The command line; `root` is the checkout whose stack files (and git history) are planned."""
    parser = argparse.ArgumentParser(prog="python -m review", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="what Pulumi.<stack>.yaml creates (Markdown; --out writes JSON)")
    plan.add_argument("--stack", required=True)
    plan.add_argument("--out", help="write the plan as JSON to this file")
    plan.set_defaults(run=_plan)
    diff = commands.add_parser("plan-diff", help="the plan at BASE against the working tree's (Markdown)")
    diff.add_argument("--stack", required=True)
    diff.add_argument("--base", required=True, help="a git ref: HEAD~1, origin/main, a commit")
    diff.add_argument("--out", help="also write the Markdown to this file")
    diff.add_argument("--json", help="also write the diff as JSON to this file (the data the Markdown is made of)")
    diff.set_defaults(run=_plan_diff)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args, root))
    except (ConfigError, StackFileError, BaseRefError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
