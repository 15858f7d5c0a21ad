"""Physical names that must be unique per project, account or region: derived from the stack (pure).

Most cloud resources here are autonamed by Pulumi (the logical name plus a
random suffix), which makes them unique on their own. The few a provider
cannot autoname, or whose name a person or a controller has to know (the EKS
cluster, the RDS instance, the Docker Hub caches, the ECR credential secret),
take the stack's name, so two stacks of one project or account and region
never ask for the same one (tests/test_stack_names.py runs two and compares).
"""

from __future__ import annotations

import re


def stack_scoped_name(base: str, stack: str, max_length: int) -> str:
    """`<base>-<stack>` in lowercase letters, digits and single dashes, at most `max_length` long.

    A stack name longer than the budget is cut, not hashed: the EKS cluster
    and the RDS instance were named this way from the first release, and a
    different name would replace them. Two stacks of one account must differ
    within the first `max_length - len(base) - 1` characters (README, Stack lifecycle).
    """
    cleaned = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-")
    return f"{base}-{cleaned}"[:max_length].rstrip("-")
