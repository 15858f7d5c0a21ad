"""A kubeconfig for a GKE cluster that authenticates with gke-gcloud-auth-plugin (pure)."""

from __future__ import annotations

import json

AUTH_PLUGIN = "gke-gcloud-auth-plugin"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def gke_kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str) -> str:
    """Kubeconfig text (JSON, which every kubeconfig reader accepts as YAML).

    No token is embedded: the exec plugin asks gcloud's credentials for a
    short-lived one on every call, so the kubeconfig itself grants nothing
    and never goes stale. `ca_certificate` is base64 PEM, as GKE returns it.
    """
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_certificate},
                }
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": EXEC_API_VERSION,
                            "command": AUTH_PLUGIN,
                            "installHint": "Install gke-gcloud-auth-plugin: "
                            "gcloud components install gke-gcloud-auth-plugin",
                            "provideClusterInfo": True,
                        }
                    },
                }
            ],
        },
        indent=2,
    )
