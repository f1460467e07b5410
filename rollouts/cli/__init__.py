"""The kubectl-style command line: `rollouts ...` and `kubectl rollouts ...`."""
