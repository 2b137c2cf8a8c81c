"""The Kubernetes side of carrying out a plan: object manifests (pure) and the API calls (effects)."""
