"""Renderers turning a repository path into manifests: YAML, Jsonnet, Helm, Kustomize, plugins."""
