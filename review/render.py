"""Markdown for a plan (`make plan`) and a plan diff (`make plan-diff`), from their data only.

A diff becomes a pull-request comment, and GitHub refuses comments over
65,536 characters: `render_diff` keeps under MAX_DIFF_CHARS by showing fewer
rows per table (each cut table ends with an "... and N more" row), never by
cutting text mid-table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

MAX_DIFF_CHARS = 60_000
# Rows per table, tried in order until the comment fits.
ROW_LIMITS = (500, 200, 100, 50, 25, 10, 5)
MAX_CELL = 100
ABSENT = "(absent)"


def cell(text: str, limit: int | None = MAX_CELL) -> str:
    """Table-safe and bounded: one line, no column breaks, at most `limit` characters (None: whole)."""
    text = text.replace("\n", " ").replace("|", "\\|")
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    return "`" + cell(text).replace("`", "'") + "`"


def value(item: dict[str, Any], key: str) -> str:
    if key not in item:
        return ABSENT
    raw = item[key]
    return code(raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], limit: int | None = None) -> list[str]:
    shown = rows if limit is None or len(rows) <= limit else rows[: limit - 1]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in shown]
    if len(shown) < len(rows):
        more = [f"... and {len(rows) - len(shown)} more"] + [""] * (len(headers) - 1)
        lines.append("| " + " | ".join(more) + " |")
    return [*lines, ""]


def short_type(type_token: str) -> str:
    return type_token.rsplit(":", 1)[-1]


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


# ---------------------------------------------------------------- plan


def _tree(nodes: list[dict[str, Any]], depth: int = 0) -> list[str]:
    lines = []
    for node in nodes:
        resources = ", ".join(f"{count} {short_type(t)}" for t, count in node["resources"].items())
        lines.append(f"{'  ' * depth}- `{node['name']}` ({node['type']}){': ' + resources if resources else ''}")
        lines += _tree(node["children"], depth + 1)
    return lines


def render_plan(plan: dict[str, Any]) -> str:
    resources = plan["resources"]
    components = sum(1 for r in resources if r["component"])
    reads = sum(1 for r in resources if r["read"])
    lines = [
        f"# Plan: stack `{plan['stack']}` ({plan['stackFile']})",
        "",
        f"cloud `{plan['cloud']}`, production: {yes_no(plan['production'])}. "
        f"{plan['resourceCount']} resources: {components} components, "
        f"{plan['resourceCount'] - components - reads} to create, {reads} read (existing).",
        "",
    ]
    lines += [f"> {note}" for note in plan["notes"]] + ([""] if plan["notes"] else [])
    lines += _warnings(plan["warnings"])
    lines += ["## Component tree", "", *_tree(plan["tree"]), ""]
    lines += ["## Resources by type", ""]
    lines += table(["count", "type"], [[str(count), t] for t, count in plan["counts"].items()])
    by_urn = {r["urn"]: r for r in resources}
    lines += ["## Protected (`pulumi destroy` and replacements refuse to delete them)", ""]
    lines += [f"- `{by_urn[urn]['name']}` ({by_urn[urn]['type']})" for urn in plan["protected"]] or ["- none"]
    lines += ["", "## Exports", ""]
    lines += table(["name", "value"], [[f"`{name}`", value(plan["exports"], name)] for name in plan["exports"]])
    lines += _policy(plan["policy"]["violations"])
    lines += _cost(plan["cost"])
    return "\n".join(lines).rstrip() + "\n"


def _resource_name(urn: str) -> str:
    return f"`{urn.rsplit('::', 1)[-1]}`" if urn else "(stack)"


def _violation_rows(violations: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            f"`{v['policy']}`",
            ("**mandatory**" if v["blocking"] else "mandatory") if v["enforcement"] == "mandatory" else "advisory",
            _resource_name(v["urn"]),
            cell(v["message"]),
            cell(f"accepted: {v['accepted']}") if v["accepted"] else "",
        ]
        for v in violations
    ]


VIOLATION_HEADERS = ("policy", "enforcement", "resource", "what to change", "accepted")
# A PR comment has no base URL for a relative link: the path names the page plainly.
POLICY_DOCS = '"Policies" in docs/reviewing-changes.md says what each id checks and how to accept a violation'


def _policy(violations: list[dict[str, Any]]) -> list[str]:
    blocking = sum(1 for v in violations if v["blocking"])
    verdict = f"**FAIL: {blocking} mandatory violation(s)**" if blocking else "**PASS: no mandatory violation stands**"
    lines = ["## Policy", "", f"{verdict} ({len(violations)} reported in all; the {POLICY_DOCS}).", ""]
    if violations:
        lines += table(VIOLATION_HEADERS, _violation_rows(violations))
    return lines


def usd(amount: float) -> str:
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


UNVERIFIED_MARK = "(unverified)"
UNVERIFIED_NOTE = (
    "are recalled or assumed, not read from the provider's price page (review/prices.py says which): "
    "check them on the official calculator before relying on them."
)


def _cost(cost: dict[str, Any]) -> list[str]:
    lines = [
        f"## Estimated cost ({cost['cloud']}, {cost['region']}, list prices of the price table of "
        f"{cost['prices_as_of']})",
        "",
        f"**{usd(cost['monthly_idle_usd'])} a month idle** (every pool at its minimum), "
        f"plus **${cost['per_task_node_hour_usd']:,.4f} per task-node hour**.",
        "",
    ]
    rows = [
        [
            f"`{line['name']}`",
            cell(line["what"]),
            f"{line['quantity']:g} {line['unit']}",
            usd(line["monthly_usd"]) + ("" if line["verified"] else f" {UNVERIFIED_MARK}"),
        ]
        for line in cost["lines"]
    ]
    lines += table(["resource", "item", "quantity", "a month"], rows)
    unverified = sum(1 for line in cost["lines"] if not line["verified"])
    if unverified:
        lines += [f"{UNVERIFIED_MARK} {unverified} price(s) {UNVERIFIED_NOTE}", ""]
    lines += ["Assumptions:", "", *[f"- {text}" for text in cost["assumptions"]], ""]
    unpriced = cost["unpriced"]
    if unpriced:
        lines += ["Not priced (they bill, but have no price here):", ""]
        lines += [
            f"- `{item['urn'].rsplit('::', 1)[-1]}` ({item['type']}): {item['reason']}" for item in cost["unpriced"]
        ]
        lines.append("")
    return lines


# ---------------------------------------------------------------- diff


def _name(item: dict[str, Any]) -> str:
    return f"`{item['name']}`"


def _dangers(diff: dict[str, Any], limit: int) -> list[str]:
    if not diff["dangers"]:
        return []
    rows = []
    for item in diff["dangers"]:
        why = [_replaced_because(item)] if item["action"] == "replace" else []
        if item["stateful"]:
            why.append("stateful: its data is lost")
        if item["blocksUpdate"]:
            why.append("protected: `pulumi up` fails until it is unprotected")
        action = "**BLOCKS THIS UPDATE**" if item["blocksUpdate"] else f"**{item['action'].upper()}**"
        # Whole: why a resource is lost or blocks the update is the point of this table.
        rows.append([action, _name(item), item["type"], cell("; ".join(why), limit=None), _source(item)])
    return [
        "### :warning: Replacements and deletions of stateful or protected resources",
        "",
        *table(["action", "resource", "type", "why", "source"], rows, limit),
    ]


def _replaced_because(item: dict[str, Any]) -> str:
    """What forces the replacement: the changed inputs, or the replaced resource it takes a value from."""
    knock_on = item.get("knockOn")
    if knock_on:
        return f"knock-on of `{knock_on['cause']}` (via `{knock_on['input']}`: {knock_on['why']})"
    return "forced by " + ", ".join(f"`{p}`" for p in item["forcing"][:5])


def _source(item: dict[str, Any]) -> str:
    link = (item.get("knockOn") or {}).get("source") or item["source"]
    return f"[provider]({link})" if link else ""


def _changed(diff: dict[str, Any], limit: int) -> list[str]:
    if not diff["changed"]:
        return []
    summary = []
    details = []
    for item in diff["changed"]:
        paths = len(item["changes"]) + item["helmValueChanges"]
        protect = item["protectChange"]
        note = f"protect {protect[0]} → {protect[1]}" if protect else ""
        summary.append(
            [
                "**replace**" if item["action"] == "replace" else "update",
                _name(item),
                item["type"],
                str(paths),
                cell(_replaced_because(item) if item["action"] == "replace" else note),
            ]
        )
        details += [[_name(item), code(c["path"]), value(c, "before"), value(c, "after")] for c in item["changes"]]
    lines = ["### Changed resources", ""]
    lines += table(["action", "resource", "type", "changed inputs", "forces replacement"], summary, limit)
    if details:
        lines += ["#### Changed inputs", ""]
        lines += table(["resource", "input path", "before", "after"], details, limit)
    return lines


def _listing(title: str, items: list[dict[str, Any]], limit: int) -> list[str]:
    if not items:
        return []
    rows = [[_name(item), item["type"], yes_no(item["protect"])] for item in items]
    return [f"### {title}", "", *table(["resource", "type", "protected"], rows, limit)]


def _helm(diff: dict[str, Any], limit: int) -> list[str]:
    if not diff["helmValues"]:
        return []
    rows = [[f"`{v['release']}`", code(v["path"]), value(v, "before"), value(v, "after")] for v in diff["helmValues"]]
    return ["### Helm values", "", *table(["release", "key path", "before", "after"], rows, limit)]


def _exports(diff: dict[str, Any], limit: int) -> list[str]:
    if not diff["exports"]:
        return []
    rows = [[code(e["path"]), value(e, "before"), value(e, "after")] for e in diff["exports"]]
    return ["### Exports", "", *table(["export", "before", "after"], rows, limit)]


def _change(pair: Sequence[float], fmt: Callable[[float], str] = usd) -> str:
    before, after = pair
    if round(before, 4) == round(after, 4):
        return f"{fmt(after)} (no change)"
    sign = "+" if after > before else "-"
    return f"{fmt(before)} → {fmt(after)} ({sign}{fmt(abs(after - before))})"


def _hourly(amount: float) -> str:
    return f"${amount:,.4f}"


def _cost_delta(diff: dict[str, Any], limit: int) -> list[str]:
    cost = diff["cost"]
    lines = [
        f"### Cost (list prices of the price table of {cost['pricesAsOf']})",
        "",
        f"- a month idle: **{_change(cost['monthlyIdleUsd'])}**",
        f"- per task-node hour: {_change(cost['perTaskNodeHourUsd'], _hourly)}",
    ]
    if cost["unpriced"]:
        lines.append(f"- {cost['unpriced']} resource(s) bill but are not priced (`make plan` lists them)")
    lines.append("")
    rows = [
        [
            f"`{item['name']}`" + ("" if item["verified"] else f" {UNVERIFIED_MARK}"),
            usd(item["before"]),
            usd(item["after"]),
            usd(item["after"] - item["before"]),
        ]
        for item in cost["resources"]
    ]
    if rows:
        lines += table(["resource", "before (a month)", "after", "change"], rows, limit)
    if any(not item["verified"] for item in cost["resources"]):
        lines += [f"{UNVERIFIED_MARK}: its price(s) {UNVERIFIED_NOTE}", ""]
    return lines


def _policy_delta(diff: dict[str, Any], limit: int) -> list[str]:
    policy = diff["policy"]
    lines = [
        "### Policy",
        "",
        f"{len(policy['new'])} new, {len(policy['resolved'])} resolved, {policy['standing']} unchanged; "
        f"{policy['blocking']} mandatory violation(s) stand in the working tree (the {POLICY_DOCS}).",
        "",
    ]
    if policy["new"]:
        lines += ["New:", "", *table(VIOLATION_HEADERS, _violation_rows(policy["new"]), limit)]
    if policy["resolved"]:
        lines += ["Resolved:", "", *table(VIOLATION_HEADERS, _violation_rows(policy["resolved"]), limit)]
    return lines


def _headline(diff: dict[str, Any]) -> list[str]:
    counts = diff["summary"]
    lines = [f"## Plan diff: stack `{diff['stack']}` (`{diff['base']}` → working tree)", ""]
    if not diff["basePlan"]:
        lines += [f"No plan at BASE: {diff['baseNote']}. Every resource is listed as added.", ""]
    total = counts["add"] + counts["delete"] + counts["update"] + counts["replace"]
    lines.append(
        f"**{counts['add']} to add, {counts['delete']} to delete, {counts['update']} to update, "
        f"{counts['replace']} to replace**, {counts['unchanged']} unchanged."
        if total
        else "**No resource changes.**"
    )
    if diff["policy"]["blocking"]:
        lines.append(f"**:x: {diff['policy']['blocking']} mandatory policy violation(s) (see Policy).**")
    if counts.get("blocking"):
        lines.append(
            f"**:no_entry: {counts['blocking']} protected resource(s) would be replaced or deleted: "
            "this update is blocked (see the first table).**"
        )
    if counts.get("knockOn"):
        lines.append(
            f"{counts['knockOn']} of the replacements are knock-on: they take a value from a replaced resource."
        )
    if diff["dangers"]:
        lines.append(f"**:warning: {len(diff['dangers'])} stateful or protected resource(s) replaced or deleted.**")
    lines.append("")
    lines += [f"> {note}" for note in diff["notes"]] + ([""] if diff["notes"] else [])
    lines += _warnings(diff.get("warnings", []))
    lines += _ineffective(diff.get("ineffective", []))
    return lines


def _ineffective(findings: list[dict[str, Any]]) -> list[str]:
    """Config changes another key overrides: the stack file's diff promises what the stack will not do."""
    if not findings:
        return []
    lines = ["### :grey_question: Config changes without effect", ""]
    for finding in findings:
        change = f"`{finding['key']}`: {_json(finding['before'])} → {_json(finding['after'])}"
        if not finding["overrides"]:
            lines.append(f"- {change} changes nothing: the stack's config is the same without it.")
            continue
        pinned = "; ".join(
            f"`{item['key']}` stays {_json(item['set'])} (set in the stack file; the new default is "
            f"{_json(item['default'])})"
            for item in finding["overrides"]
        )
        lines.append(f"- {change} is overridden where the stack sets the key itself: {pinned}.")
    return [*lines, ""]


def _json(raw: Any) -> str:
    return "(unset)" if raw is None else code(raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True))


def _warnings(warnings: list[str]) -> list[str]:
    """The program's preview warnings, before anything else a reviewer reads."""
    if not warnings:
        return []
    # Whole, never cut to a table cell: the end of a warning is usually what to do about it.
    return ["### :warning: Warnings `pulumi preview` will print", "", *[f"- {_line(text)}" for text in warnings], ""]


def _line(text: str) -> str:
    """One Markdown list item's text: the whole text, on one line."""
    return " ".join(text.split())


SECTIONS: tuple[Callable[[dict[str, Any], int], list[str]], ...] = (
    _dangers,
    _policy_delta,
    _cost_delta,
    _changed,
    _helm,
    lambda diff, limit: _listing("Added resources", diff["added"], limit),
    lambda diff, limit: _listing("Removed resources", diff["removed"], limit),
    _exports,
)

FOOTER = (
    "_Offline plan under mocks (`make plan-diff`): provider-computed values and replacements "
    "decided at apply time are not shown; `pulumi preview` is the authority._"
)


def render_diff(diff: dict[str, Any]) -> str:
    """The diff as Markdown under MAX_DIFF_CHARS, with as many rows per table as fit."""
    # The smallest limit always fits: a handful of tables of 5 bounded rows.
    for limit in ROW_LIMITS:
        lines = _headline(diff)
        for section in SECTIONS:
            lines += section(diff, limit)
        text = "\n".join([*lines, FOOTER]) + "\n"
        if len(text) <= MAX_DIFF_CHARS or limit == ROW_LIMITS[-1]:
            break
    return text
