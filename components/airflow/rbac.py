"""RBAC of the task pods' ServiceAccount: KubernetesPodOperator starts, follows and removes pods.

Why the stack binds it itself: which of the chart's RoleBindings covers the
task pods' own account (`workers.kubernetes.serviceAccount`, which the pod
template names) depends on the chart version. The pod launcher binding names
the scheduler and the root worker account (`<release>-worker`); the subject
for `<release>-worker-kubernetes` came with apache/airflow #66730 (merged May
2026, after the 1.22 line branched, its backport unconfirmed), so chart
1.22.0's binding is not proven to cover it. A Role of our own covers it on
every chart version, and holds only what the operator calls.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.kube import MANAGED_BY, child_options

RBAC_API_GROUP = "rbac.authorization.k8s.io"
ROLE_SUFFIX = "task-pod-launcher"
# What apache-airflow-providers-cncf-kubernetes 10.17 calls from a task
# (operators/pod.py, utils/pod_manager.py): create the pod, read and list it
# (find it again after a retry), watch it, patch its labels when done, delete
# it; follow its log; exec into the XCom sidecar (`do_xcom_push`; a websocket
# exec needs `create` since Kubernetes 1.30); list events for the failure report.
TASK_POD_LAUNCHER_RULES = (
    ("pods", ("create", "get", "list", "watch", "patch", "delete")),
    ("pods/log", ("get",)),
    ("pods/exec", ("create", "get")),
    ("events", ("list",)),
)


def task_pod_launcher(
    resource_name: str,
    *,
    namespace: pulumi.Input[str],
    release_name: str,
    service_account: str,
    provider: k8s.Provider,
    parent: pulumi.Resource,
) -> k8s.rbac.v1.RoleBinding:
    """A namespaced Role with TASK_POD_LAUNCHER_RULES, bound to `service_account` (the one the pod template names)."""
    role_name = f"{release_name}-{ROLE_SUFFIX}"
    role = k8s.rbac.v1.Role(
        f"{resource_name}-role",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=role_name, namespace=namespace, labels=MANAGED_BY),
        rules=[
            k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=[resource], verbs=list(verbs))
            for resource, verbs in TASK_POD_LAUNCHER_RULES
        ],
        opts=child_options(parent, provider),
    )
    # A binding may name an account that does not exist yet: the chart
    # creates it, and the grant applies as soon as it does.
    return k8s.rbac.v1.RoleBinding(
        f"{resource_name}-binding",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=role_name, namespace=namespace, labels=MANAGED_BY),
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group=RBAC_API_GROUP, kind="Role", name=role.metadata.name),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=service_account, namespace=namespace)],
        opts=child_options(parent, provider),
    )
