"""A kubeconfig for a GKE cluster's DNS-based endpoint that authenticates with gke-gcloud-auth-plugin (pure)."""

from __future__ import annotations

import json

AUTH_PLUGIN = "gke-gcloud-auth-plugin"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
# The plugin's flag (kubernetes/cloud-provider-gcp cmd/gke-gcloud-auth-plugin,
# PR #264): token from application-default credentials, no `gcloud` call.
ADC_FLAG = "--use_application_default_credentials"


def gke_kubeconfig(cluster_name: str, dns_endpoint: str) -> str:
    """Kubeconfig text (JSON, which every kubeconfig reader accepts as YAML) for the cluster's DNS-based endpoint.

    No token is embedded: the exec plugin asks application-default
    credentials for a short-lived one on every call, so the kubeconfig itself grants nothing
    and never goes stale. No CA either: the DNS-based endpoint is a Google front end that
    serves a publicly trusted certificate, not the cluster's own CA (which only the IP
    endpoint presents), so the system trust store verifies it (as Google's own
    clients do: google/clusterfuzz#5143 sets the cluster CA only for an IP endpoint).
    """
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": f"https://{dns_endpoint}"}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": EXEC_API_VERSION,
                            "command": AUTH_PLUGIN,
                            # Authenticate as application-default credentials
                            # (`gcloud auth application-default login`, or
                            # the workload identity CI gets) - what Pulumi
                            # itself uses and what the prerequisites check -
                            # rather than gcloud's own login, which CI lacks.
                            "args": [ADC_FLAG],
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
