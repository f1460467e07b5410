"""Pydantic models of every resource we serve (Argo Rollouts v1alpha1 and our GitSync)."""
