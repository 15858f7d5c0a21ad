"""A KMS key that encrypts the cluster's Kubernetes Secrets in etcd (application-layer encryption)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# 90 days: new Secrets are written with the new version, old versions keep
# decrypting what they encrypted.
ROTATION_PERIOD = f"{90 * 24 * 3600}s"
CONTAINER_API = "container.googleapis.com"


@dataclass(frozen=True)
class SecretsKeyArgs:
    project: str
    # GKE requires the key in the cluster's region.
    region: str
    production: bool
    # The cloudkms, container (whose service agent gets the grant) and
    # cloudresourcemanager (project-number lookup) APIs.
    apis: Sequence[pulumi.Resource]
    provider: gcp.Provider


class SecretsKey(pulumi.ComponentResource):
    key_ring: gcp.kms.KeyRing
    crypto_key: gcp.kms.CryptoKey
    gke_access: gcp.kms.CryptoKeyIAMMember

    def __init__(self, name: str, args: SecretsKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:SecretsKey", name, None, opts)
        depends = pulumi.ResourceOptions(parent=self, depends_on=list(args.apis))
        # Key rings cannot be deleted in GCP: `pulumi destroy` only forgets it.
        self.key_ring = gcp.kms.KeyRing(f"{name}-ring", location=args.region, opts=depends)
        # Destroying the key makes every Secret in the cluster unreadable:
        # protected on production, like the cluster itself.
        self.crypto_key = gcp.kms.CryptoKey(
            f"{name}-key",
            key_ring=self.key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=ROTATION_PERIOD,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.apis), protect=args.production),
        )
        # The GKE service agent encrypts and decrypts on the cluster's behalf.
        # On a new project it does not exist until something creates it
        # (enabling the API does so only eventually, and the first cluster
        # create is too late: it needs the grant already), and IAM refuses a
        # binding for an account that does not exist. Create it explicitly.
        # https://cloud.google.com/service-usage/docs/reference/rest/v1beta1/services/generateServiceIdentity
        gke_agent = gcp.projects.ServiceIdentity(
            f"{name}-gke-agent-identity", project=args.project, service=CONTAINER_API, opts=depends
        )
        # The member is built from the project number (the agent's documented
        # address) rather than read from the identity: the API may return
        # no email for an agent it has only just created. The lookup needs
        # the cloudresourcemanager API, hence the dependency.
        project = gcp.organizations.get_project_output(
            project_id=args.project,
            opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider, depends_on=list(args.apis)),
        )
        self.gke_access = gcp.kms.CryptoKeyIAMMember(
            f"{name}-gke-agent",
            crypto_key_id=self.crypto_key.id,
            role=ENCRYPTER_DECRYPTER,
            member=project.number.apply(
                lambda number: f"serviceAccount:service-{number}@container-engine-robot.iam.gserviceaccount.com"
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.apis, gke_agent]),
        )
        self.register_outputs({"cryptoKey": self.crypto_key.id})
