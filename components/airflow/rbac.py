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

from dataclasses import dataclass

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


@dataclass(frozen=True)
class TaskPodLauncherArgs:
    namespace: pulumi.Input[str]
    release_name: str
    # The account the pod template names (components/airflow/pod_template.py).
    service_account: str
    provider: k8s.Provider


class TaskPodLauncher(pulumi.ComponentResource):
    """A namespaced Role with TASK_POD_LAUNCHER_RULES, bound to the task pods' ServiceAccount."""

    role: k8s.rbac.v1.Role
    binding: k8s.rbac.v1.RoleBinding

    def __init__(self, name: str, args: TaskPodLauncherArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:airflow:TaskPodLauncher", name, None, opts)
        role_name = f"{args.release_name}-{ROLE_SUFFIX}"
        self.role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=role_name, namespace=args.namespace, labels=MANAGED_BY),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=[resource], verbs=list(verbs))
                for resource, verbs in TASK_POD_LAUNCHER_RULES
            ],
            opts=child_options(self, args.provider),
        )
        # A binding may name an account that does not exist yet: the chart
        # creates it, and the grant applies as soon as it does.
        self.binding = k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=role_name, namespace=args.namespace, labels=MANAGED_BY),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group=RBAC_API_GROUP, kind="Role", name=self.role.metadata.name),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=args.service_account, namespace=args.namespace)
            ],
            opts=child_options(self, args.provider),
        )
        self.register_outputs({"role": self.role.metadata.name, "binding": self.binding.metadata.name})
