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


@dataclass(frozen=True)
class SecretsKeyArgs:
    project: str
    # GKE requires the key in the cluster's region.
    region: str
    production: bool
    # The cloudkms API, and the container API that creates the GKE service agent.
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
        project = gcp.organizations.get_project_output(
            project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider)
        )
        # The GKE service agent encrypts and decrypts on the cluster's behalf.
        self.gke_access = gcp.kms.CryptoKeyIAMMember(
            f"{name}-gke-agent",
            crypto_key_id=self.crypto_key.id,
            role=ENCRYPTER_DECRYPTER,
            member=project.number.apply(
                lambda number: f"serviceAccount:service-{number}@container-engine-robot.iam.gserviceaccount.com"
            ),
            opts=depends,
        )
        self.register_outputs({"cryptoKey": self.crypto_key.id})
