"""The EKS control plane: KMS-encrypted Secrets, private endpoint, access entries, kubeconfig."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws.control_plane_logs import control_plane_log_group
from components.aws.iam import service_role
from components.aws.settings import ClusterAccess, iam_principal

# The log types CKV_AWS_37 asks for: API calls, audit trail, IAM authentication.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator")
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# For read-only roles (CI's `pulumi preview --refresh`): get/list/watch on every
# resource of every API group, Secrets included, and no write verb
# (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html).
# The least that lets a refresh read what the stack owns: AmazonEKSViewPolicy
# leaves out Secrets, and both the stack's Secrets and Helm's release records
# (Secrets `sh.helm.release.v1.*`) are read on refresh.
READ_ONLY_POLICY = "AmazonEKSAdminViewPolicy"
# ForceNew in terraform-provider-aws (internal/service/eks/cluster.go, `access_config`
# schema) and never returned by the EKS API: resourceClusterRead keeps the value
# in state as it was at creation ("bootstrap_cluster_creator_admin_permissions
# isn't returned from the AWS API"). Ignoring changes to it keeps every cluster
# created before the explicit admin entries (with it true) from being replaced.
CREATOR_ADMIN_INPUT = "accessConfig.bootstrapClusterCreatorAdminPermissions"


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    region: str
    partition: str
    kubernetes_version: str
    subnet_ids: list[pulumi.Output[str]]
    endpoint_public_access: bool
    public_access_cidrs: tuple[str, ...]
    access: ClusterAccess
    production: bool
    control_plane_log_retention_days: int


class Cluster(pulumi.ComponentResource):
    """`aws.eks.Cluster` with its role, Secrets KMS key, admin and read-only access entries, a Kubernetes provider."""

    cluster: aws.eks.Cluster
    secrets_key: aws.kms.Key
    cluster_security_group_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:Cluster", name, None, opts)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.production)

        # Envelope encryption of Kubernetes Secrets (CKV_AWS_58). It cannot be
        # removed later without replacing the cluster, so it is on from day one.
        self.secrets_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"EKS Secrets encryption for {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.production else 7,
            opts=stateful,
        )
        cluster_role = service_role(
            f"{name}-role",
            service="eks.amazonaws.com",
            managed_policies=["AmazonEKSClusterPolicy"],
            partition=args.partition,
            description=f"EKS control plane of {args.cluster_name}",
            parent=self,
        )
        # AmazonEKSClusterPolicy grants no KMS rights; the control plane needs
        # these on its key to encrypt and decrypt Secrets.
        key_policy = aws.iam.RolePolicy(
            f"{name}-role-secrets-key",
            role=cluster_role.role.name,
            policy=self.secrets_key.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                                "Resource": arn,
                            }
                        ],
                    }
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        # Before the cluster: EKS creates the group without retention if it is missing.
        log_group = control_plane_log_group(
            f"{name}-control-plane-logs",
            cluster_name=args.cluster_name,
            retention_days=args.control_plane_log_retention_days,
            production=args.production,
            parent=self,
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            role_arn=cluster_role.role.arn,
            version=args.kubernetes_version,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=args.endpoint_public_access,
                # Validated: never 0.0.0.0/0 on production; empty when public access is off.
                public_access_cidrs=list(args.public_access_cidrs) if args.endpoint_public_access else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.secrets_key.arn),
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            # Access entries, not the aws-auth ConfigMap (see ClusterAccess.creator_is_admin).
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=args.access.creator_is_admin,
            ),
            # Dev: never drift into paid extended support ($0.60/h instead of
            # $0.10/h); EKS upgrades the control plane at the end of standard
            # support. Prod keeps the AWS default (EXTENDED): no surprise
            # upgrade of a production control plane - bump kubernetesVersion.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="EXTENDED" if args.production else "STANDARD"),
            deletion_protection=args.production,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.production,
                depends_on=[*cluster_role.attachments, key_policy, log_group],
                # Applies to updates only: a new cluster gets the value above.
                ignore_changes=[CREATOR_ADMIN_INPUT],
            ),
        )
        # EKS creates this group and attaches it to the control-plane ENIs and
        # to every managed node: the one source for NFS and Postgres rules.
        self.cluster_security_group_id: pulumi.Output[str] = self.cluster.vpc_config.apply(
            lambda vpc_config: vpc_config.cluster_security_group_id or ""
        )

        # The Kubernetes provider waits for the admins' access: with no creator
        # entry, the first `pulumi up` can reach the API only once they exist.
        access = args.access
        admin_access = []
        if access.admin_role_arn is not None:
            admin_access.append(
                self._grant(f"{name}-admin", access.admin_role_arn, CLUSTER_ADMIN_POLICY, args.partition)
            )
        for role_arn in access.deploy_role_arns:
            admin_access.append(
                self._grant(_entry_name(name, "deploy", role_arn), role_arn, CLUSTER_ADMIN_POLICY, args.partition)
            )
        for role_arn in access.read_only_role_arns:
            self._grant(_entry_name(name, "read-only", role_arn), role_arn, READ_ONLY_POLICY, args.partition)

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority.apply(lambda ca: ca.data)
            ).apply(lambda parts: build_kubeconfig(parts[0], parts[1], parts[2], args.region))
        )
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=admin_access),
        )
        self.register_outputs({"clusterName": self.cluster.name, "endpoint": self.cluster.endpoint})

    def _grant(self, name: str, role_arn: str, policy: str, partition: str) -> aws.eks.AccessPolicyAssociation:
        """An access entry for role_arn with one AWS-managed access policy on the whole cluster."""
        entry = aws.eks.AccessEntry(
            name,
            cluster_name=self.cluster.name,
            principal_arn=role_arn,
            type="STANDARD",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.eks.AccessPolicyAssociation(
            name,
            cluster_name=self.cluster.name,
            principal_arn=role_arn,
            policy_arn=f"arn:{partition}:eks::aws:cluster-access-policy/{policy}",
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
        )


def _entry_name(name: str, purpose: str, role_arn: str) -> str:
    """Named by account and role, not list position: reordering a list replaces nothing."""
    account, _, role_name = iam_principal(role_arn)
    return f"{name}-{purpose}-{account}-{role_name}"


def deploying_principal_arn(provider: aws.Provider) -> str:
    """The IAM principal running `pulumi up`, as EKS keys access entries: for an
    assumed role (SSO, CI's OIDC role) the role's ARN, not the STS session ARN
    (aws.iam.get_session_context turns one into the other; users pass through)."""
    opts = pulumi.InvokeOptions(provider=provider)
    caller = aws.get_caller_identity(opts=opts)
    return aws.iam.get_session_context(arn=caller.arn, opts=opts).issuer_arn


def caller_access_warning(access: ClusterAccess, caller_arn: str) -> str | None:
    """Why the identity running Pulumi may be refused by the cluster, or None.

    A warning, never an error: the caller decides nothing that is declared, and
    a cluster created before the explicit admin entries still admits its creator
    through EKS's own entry, which the program cannot see.
    """
    if access.creator_is_admin:
        return None
    listed = (*access.admin_role_arns, *access.read_only_role_arns)
    if iam_principal(caller_arn) in {iam_principal(arn) for arn in listed}:
        return None
    return (
        f"the identity running Pulumi ({caller_arn}) is in none of aws.adminRoleArn, aws.deployRoleArns and "
        "aws.readOnlyRoleArns: the cluster has no access entry for it, so its Kubernetes calls will be refused "
        "(unless it created the cluster before these keys were set). Add its role to aws.adminRoleArn, or run "
        "Pulumi as a listed role."
    )


def build_kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    """A kubeconfig that gets short-lived tokens from `aws eks get-token` (AWS CLI v2).

    No static credential is stored: whoever runs Pulumi or kubectl
    authenticates with their own AWS identity and its access entry.
    """
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    cluster = {"server": endpoint, "certificate-authority-data": certificate_authority}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": cluster}],
            "users": [{"name": cluster_name, "user": user}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
        }
    )
