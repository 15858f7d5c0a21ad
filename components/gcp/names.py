"""Names GCP makes unique per project, derived from the stack (pure)."""

from __future__ import annotations

import hashlib
import re

_ACCOUNT_ID_MAX = 30


def service_account_id(stack: str, purpose: str) -> str:
    """A service account id (6-30 of [a-z0-9-], starting with a letter) for one stack.

    Account ids are unique per project and cannot be autonamed by Pulumi, so
    two stacks sharing a project (dev, staging) differ by the stack name; a
    long stack name is shortened with a hash so it stays unique.
    """
    stack_part = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-") or "stack"
    budget = _ACCOUNT_ID_MAX - len("af--") - len(purpose)
    if len(stack_part) > budget:
        digest = hashlib.sha256(stack.encode()).hexdigest()[:4]
        stack_part = f"{stack_part[: budget - 5].rstrip('-')}-{digest}"
    return f"af-{stack_part}-{purpose}"
