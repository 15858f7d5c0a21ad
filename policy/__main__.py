"""The policy pack's entry point for `pulumi preview --policy-pack policy`.

The only place that builds `PolicyPack`: constructing it starts the analyzer's
gRPC server and blocks, so tests and `make plan` import `policy.policies`.
"""

import sys
from pathlib import Path

# The CLI runs this file from the pack's folder; the rules import as `policy.*` like everywhere else.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.acceptance import honouring, load_accepted
from policy.policies import POLICIES

PolicyPack(
    name="airflow-platform",
    policies=honouring(POLICIES, load_accepted([policy.name for policy in POLICIES])),
    # Each policy sets its own level; this only covers one that forgets to.
    enforcement_level=EnforcementLevel.MANDATORY,
)
