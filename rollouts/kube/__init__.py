"""Kubernetes I/O: client, informers, work queue, leader election, events.

Knows nothing of rollouts (DESIGN.md §2).
"""
