"""Node pools: an on-demand `system` pool for Airflow itself, a tainted `workers` pool for task pods."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.gcp.cluster import CLOUD_PLATFORM_SCOPE, GKE_METADATA
from components.platform import Placement

POOL_LABEL = "airflow-platform/pool"
WORKERS = "workers"
SYSTEM = "system"
# Only pods that tolerate the taint (KubernetesExecutor task pods, via the
# chart's workers.tolerations) land on the worker pool, so the scheduler or
# API server never pins a spot node and stops it scaling to zero.
WORKER_TAINT = {"key": POOL_LABEL, "value": WORKERS, "effect": "NO_SCHEDULE"}
# GKE's taint effect enum -> the Kubernetes spelling pods tolerate.
_KUBERNETES_EFFECT = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}
# pd-balanced boot disks: SSD-backed image pulls at half pd-ssd's price.
DISK_TYPE = "pd-balanced"
# Worker nodes: the Airflow image with room for task scratch data. The system
# pool's size is a setting (gcp.systemDiskSizeGb).
WORKER_DISK_SIZE_GB = 50
# The autoscaler owns the node count: after the first create these fields
# drift with every scale-up and must not show as diffs (initial_node_count
# would even force the pool's replacement).
AUTOSCALED_FIELDS = ["initialNodeCount", "nodeCount"]
# Asleep (`sleep: true`), the system pool is sized by the program, not the
# autoscaler: autoscaling off and node_count 0 - the way GKE resizes a pool to
# zero (`gcloud container clusters resize --num-nodes 0`). The autoscaler would
# not do it: it never drains a node that runs kube-system pods, whatever its
# max. The provider resizes only when node_count differs from the state's, which
# with ignore_node_count_changes is the pool's initial_node_count (1), not a
# live reading. initial_node_count stays ignored (a change would replace the
# pool). Waking turns autoscaling back on; node_count keeps the asleep 0
# (ignored again), and the Airflow pods Pending on the empty pool make GKE's
# autoscaler (part of the managed control plane, so it runs with no node) add
# nodes. Source: the provider's `node_count` and `ignore_node_count_changes`
# docs (pulumi_gcp container.NodePool).
# The worker pool keeps its autoscaling, with minimum 0: with no scheduler no
# task pod asks for a node, and the autoscaler removes the empty ones. So one
# pool keeps autoscaling on, and GKE does not restart the control plane, as it
# may when autoscaling is turned off for the last pool or on for the first
# (https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-autoscaler).
ASLEEP_IGNORED_FIELDS = ["initialNodeCount"]


def worker_placement() -> Placement:
    """nodeSelector + tolerations that put task pods on the worker pool."""
    return Placement(
        node_selector={POOL_LABEL: WORKERS},
        tolerations=(
            {
                "key": WORKER_TAINT["key"],
                "operator": "Equal",
                "value": WORKER_TAINT["value"],
                "effect": _KUBERNETES_EFFECT[WORKER_TAINT["effect"]],
            },
        ),
    )


@dataclass(frozen=True)
class PoolSpec:
    machine_type: str
    min_nodes: int
    max_nodes: int
    spot: bool
    disk_size_gb: int


@dataclass(frozen=True)
class NodePoolsArgs:
    cluster: pulumi.Input[str]
    location: pulumi.Input[str]
    service_account: pulumi.Input[str]
    system: PoolSpec
    workers: PoolSpec
    # Role bindings of the node account: nodes must be able to pull and log from boot.
    depends_on: Sequence[pulumi.Resource]
    # `sleep: true`: the system pool at zero nodes, autoscaling off; the workers' minimum 0.
    asleep: bool = False


class NodePools(pulumi.ComponentResource):
    system: gcp.container.NodePool
    workers: gcp.container.NodePool
    placement: Placement

    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:NodePools", name, None, opts)
        self.system = self._pool(
            f"{name}-{SYSTEM}",
            args,
            args.system,
            labels={POOL_LABEL: SYSTEM},
            taints=[],
            # One node per zone at creation (the pool's count is per zone).
            initial_node_count=1,
            location_policy="BALANCED",
            to_zero=args.asleep,
        )
        self.workers = self._pool(
            f"{name}-{WORKERS}",
            args,
            dataclasses.replace(args.workers, min_nodes=0) if args.asleep else args.workers,
            labels={POOL_LABEL: WORKERS},
            taints=[gcp.container.NodePoolNodeConfigTaintArgs(**WORKER_TAINT)],
            # Start empty when allowed: the first task pod scales it up.
            initial_node_count=0 if args.workers.min_nodes == 0 else 1,
            # Spot capacity comes and goes per zone: take it wherever it is.
            location_policy="ANY",
            image_streaming=True,
        )
        self.placement = worker_placement()
        self.register_outputs({"system": self.system.name, "workers": self.workers.name})

    def _pool(
        self,
        resource_name: str,
        args: NodePoolsArgs,
        spec: PoolSpec,
        *,
        labels: dict[str, str],
        taints: list[gcp.container.NodePoolNodeConfigTaintArgs],
        initial_node_count: int,
        location_policy: str,
        image_streaming: bool = False,
        to_zero: bool = False,
    ) -> gcp.container.NodePool:
        return gcp.container.NodePool(
            resource_name,
            cluster=args.cluster,
            location=args.location,
            initial_node_count=initial_node_count,
            # Totals across zones, so the same numbers mean the same cost on
            # a zonal and a regional cluster.
            autoscaling=None
            if to_zero
            else gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=spec.min_nodes,
                total_max_node_count=spec.max_nodes,
                location_policy=location_policy,
            ),
            node_count=0 if to_zero else None,
            # Skip reading the instance groups' live size: it is the
            # autoscaler's business (see AUTOSCALED_FIELDS).
            ignore_node_count_changes=True,
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=spec.machine_type,
                spot=spec.spot,
                disk_type=DISK_TYPE,
                disk_size_gb=spec.disk_size_gb,
                image_type="COS_CONTAINERD",
                service_account=args.service_account,
                # Access is governed by the account's IAM roles, not scopes.
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                labels=labels,
                taints=taints,
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode=GKE_METADATA),
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                metadata={"disable-legacy-endpoints": "true"},
                # Image streaming on the worker pool: a task pod on a node the
                # autoscaler just created starts once the image's first bytes
                # arrive instead of after the whole ~1 GB pull. Needs COS
                # containerd (above), the containerfilesystem API and an image in
                # Artifact Registry - the Docker Hub cache (registry.py); an image
                # that does not qualify is pulled the ordinary way. Source:
                # https://cloud.google.com/kubernetes-engine/docs/how-to/image-streaming
                gcfs_config=gcp.container.NodePoolNodeConfigGcfsConfigArgs(enabled=True) if image_streaming else None,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                ignore_changes=ASLEEP_IGNORED_FIELDS if to_zero else AUTOSCALED_FIELDS,
            ),
        )
