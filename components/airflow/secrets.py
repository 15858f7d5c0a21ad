"""Every Airflow credential as a Pulumi-managed Kubernetes Secret.

The chart is told only the Secret names, so Helm values (and `pulumi preview
--diff`) never contain a credential. All values come from pulumi_random /
pulumi_tls resources: generated once, stored encrypted in the stack state and
unchanged by later updates - unlike the chart's own pre-install hook Secrets,
whose keys change on reinstall and make stored connections unreadable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls

from components.airflow.auth import CLIENT_SECRET_KEY as AUTH_CLIENT_SECRET_KEY
from components.config import DagSettings
from components.kube import MANAGED_BY, child_options
from components.platform import MetadataDatabase

# The key each Secret must hold, as the chart reads it.
FERNET_KEY = "fernet-key"
API_SECRET_KEY = "api-secret-key"
JWT_SECRET_KEY = "jwt-secret"
CONNECTION_KEY = "connection"
# Same Secret as CONNECTION_KEY: the asyncpg URL Airflow's async engine uses.
ASYNC_CONNECTION_KEY = "async-connection"
GIT_SSH_KEY = "gitSshKey"
KNOWN_HOSTS_KEY = "knownHosts"
# Same Secret (`dags.source: bundle` over SSH): the Airflow connection the GitDagBundle
# authenticates with, as the JSON an AIRFLOW_CONN_<ID> variable holds.
GIT_CONNECTION_KEY = "airflowConnection"
# Where every Airflow container finds the Secret's knownHosts (components/airflow/values.py mounts it).
GIT_KNOWN_HOSTS_FILE = "/opt/airflow/git-ssh/known_hosts"
ADMIN_USERNAME_KEY = "username"
ADMIN_PASSWORD_KEY = "password"


@dataclass(frozen=True)
class SecretNames:
    """Kubernetes Secret names. Distinct from the chart's own `<release>-fernet-key`
    and friends, so the chart can never create or overwrite them."""

    fernet_key: str
    api_secret_key: str
    jwt_secret: str
    metadata_connection: str
    admin_user: str
    git_ssh_key: str | None
    # The OAuth client secret of `auth.mode: oidc`, read by the API server only.
    auth_client: str | None = None

    @classmethod
    def for_release(cls, release_name: str, with_git_ssh_key: bool, with_auth_client: bool = False) -> SecretNames:
        prefix = f"{release_name}-managed"
        return cls(
            fernet_key=f"{prefix}-fernet-key",
            api_secret_key=f"{prefix}-api-secret-key",
            jwt_secret=f"{prefix}-jwt-secret",
            metadata_connection=f"{prefix}-metadata",
            admin_user=f"{prefix}-admin-user",
            git_ssh_key=f"{prefix}-git-ssh" if with_git_ssh_key else None,
            auth_client=f"{prefix}-auth-client" if with_auth_client else None,
        )


@dataclass(frozen=True)
class AirflowSecretsArgs:
    namespace: pulumi.Input[str]
    release_name: str
    admin_username: str
    database: MetadataDatabase
    dags: DagSettings
    provider: k8s.Provider
    # Bumping it replaces the Fernet key (rotation); previous keys keep
    # decrypting what the old key encrypted until `airflow rotate-fernet-key`.
    fernet_key_generation: int
    fernet_previous_keys: pulumi.Output[str] | None = None
    # `authClientSecret` with `auth.mode: oidc`; None: no provider sign-in.
    auth_client_secret: pulumi.Output[str] | None = None


class AirflowSecrets(pulumi.ComponentResource):
    names: SecretNames
    secrets: dict[str, k8s.core.v1.Secret]
    # SHA-256 over the data of every Secret the long-running Airflow pods read
    # (the chart's own checksum annotations only cover Secrets it renders).
    checksum: pulumi.Output[str]
    fernet_key: pulumi.Output[str]
    admin_password: pulumi.Output[str]
    deploy_public_key: pulumi.Output[str] | None
    deploy_key_fingerprint: pulumi.Output[str] | None

    def __init__(self, name: str, args: AirflowSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:airflow:Secrets", name, None, opts)
        self.names = SecretNames.for_release(
            args.release_name,
            with_git_ssh_key=args.dags.uses_ssh,
            with_auth_client=args.auth_client_secret is not None,
        )
        self.secrets = {}
        self._read_by_pods: list[tuple[str, dict[str, pulumi.Input[str]]]] = []
        local = pulumi.ResourceOptions(parent=self)

        fernet_bytes = random.RandomBytes(
            f"{name}-fernet-key",
            length=32,
            keepers={"generation": str(args.fernet_key_generation)},
            opts=local,
        )
        # Fernet wants url-safe base64; RandomBytes gives the standard alphabet.
        self.fernet_key = pulumi.Output.secret(fernet_bytes.base64.apply(_url_safe))
        fernet_value = (
            pulumi.Output.concat(self.fernet_key, ",", args.fernet_previous_keys)
            if args.fernet_previous_keys is not None
            else self.fernet_key
        )
        self._secret("fernet-key", self.names.fernet_key, {FERNET_KEY: fernet_value}, args)

        # Shared by every API server replica to sign sessions and JWTs: a key
        # per pod (the chart's fallback) logs users out on every restart.
        api_secret = _password(f"{name}-api-secret-key", 64, local)
        self._secret("api-secret-key", self.names.api_secret_key, {API_SECRET_KEY: api_secret}, args)
        jwt_secret = _password(f"{name}-jwt-secret", 64, local)
        self._secret("jwt-secret", self.names.jwt_secret, {JWT_SECRET_KEY: jwt_secret}, args)

        self.admin_password = _password(f"{name}-admin-password", 24, local)
        # Read only by the create-user Job, whose pod starts afresh on each run.
        self._secret(
            "admin-user",
            self.names.admin_user,
            {ADMIN_USERNAME_KEY: args.admin_username, ADMIN_PASSWORD_KEY: self.admin_password},
            args,
            read_by_pods=False,
        )
        self._secret(
            "metadata-connection",
            self.names.metadata_connection,
            {
                CONNECTION_KEY: args.database.connection_url(),
                ASYNC_CONNECTION_KEY: args.database.async_connection_url(),
            },
            args,
        )

        self.deploy_public_key = None
        self.deploy_key_fingerprint = None
        if self.names.git_ssh_key is not None:
            deploy_key = tls.PrivateKey(f"{name}-git-deploy-key", algorithm="ED25519", opts=local)
            self.deploy_public_key = deploy_key.public_key_openssh
            self.deploy_key_fingerprint = deploy_key.public_key_fingerprint_sha256
            git_ssh: dict[str, pulumi.Input[str]] = {
                GIT_SSH_KEY: pulumi.Output.secret(deploy_key.private_key_openssh),
                KNOWN_HOSTS_KEY: args.dags.known_hosts or "",
            }
            if args.dags.source == "bundle":
                git_ssh[GIT_CONNECTION_KEY] = pulumi.Output.secret(
                    deploy_key.private_key_openssh.apply(git_bundle_connection)
                )
            self._secret("git-ssh", self.names.git_ssh_key, git_ssh, args)
        if self.names.auth_client is not None and args.auth_client_secret is not None:
            self._secret("auth-client", self.names.auth_client, {AUTH_CLIENT_SECRET_KEY: args.auth_client_secret}, args)
        self.checksum = _checksum(self._read_by_pods)
        self.register_outputs({"names": vars(self.names), "checksum": self.checksum})

    def _secret(
        self,
        suffix: str,
        secret_name: str,
        string_data: dict[str, pulumi.Input[str]],
        args: AirflowSecretsArgs,
        read_by_pods: bool = True,
    ) -> None:
        if read_by_pods:
            self._read_by_pods.append((secret_name, string_data))
        self.secrets[secret_name] = k8s.core.v1.Secret(
            f"{self._name}-{suffix}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=args.namespace, labels=MANAGED_BY),
            type="Opaque",
            string_data=string_data,
            opts=child_options(self, args.provider),
        )


def _checksum(secrets: list[tuple[str, dict[str, pulumi.Input[str]]]]) -> pulumi.Output[str]:
    """One digest of the Secrets' data, as a pod annotation: a changed Secret rolls the pods.

    Pods read these Secrets as env vars and files at start only; without a
    changed pod template nothing restarts them, and a rotated Fernet key or
    database password would never reach a running scheduler. The digest is
    not secret (SHA-256 of generated keys of 32+ random bytes cannot be
    reversed), so it is unwrapped: a secret inside the Helm values would hide
    the whole values diff in `pulumi preview`.
    """
    entries = [
        pulumi.Output.all(secret_name, key, value)
        for secret_name, data in sorted(secrets, key=lambda item: item[0])
        for key, value in sorted(data.items())
    ]
    digest = pulumi.Output.all(*entries).apply(
        lambda resolved: hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()
    )
    return pulumi.Output.unsecret(digest)


def git_bundle_connection(private_key: str) -> str:
    """The `git` connection of a GitDagBundle over SSH (apache-airflow-providers-git, GitHook).

    The deploy key inline (`private_key`: GitHook writes it to a 0600 file for
    each git command); host keys checked against the mounted `knownHosts` only
    (`strict_host_key_checking: yes`; the hook's default, `accept-new`, would
    trust whichever host answers first, and the provider warns it changes).
    """
    extra = {"private_key": private_key, "strict_host_key_checking": "yes", "known_hosts_file": GIT_KNOWN_HOSTS_FILE}
    return json.dumps({"conn_type": "git", "extra": extra})


def _password(resource_name: str, length: int, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    # Letters and digits only: these values end up in env vars, URLs and shells.
    generated = random.RandomPassword(resource_name, length=length, special=False, opts=opts)
    return pulumi.Output.secret(generated.result)


def _url_safe(standard_base64: str) -> str:
    return standard_base64.replace("+", "-").replace("/", "_")
