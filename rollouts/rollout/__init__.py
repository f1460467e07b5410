"""The Rollout state machine: pure decide() plus the controller shell that executes its actions."""
