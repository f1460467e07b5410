"""Git sync: fetch a repository, render its manifests, apply, prune and detect drift."""
