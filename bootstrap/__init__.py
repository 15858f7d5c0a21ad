"""One-time setup of what CI needs: state backend, secrets key, OIDC identities, GitHub environments."""
