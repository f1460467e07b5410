"""Progressive delivery for Kubernetes: a Python engine serving the Argo Rollouts API."""

__version__ = "0.1.0"
