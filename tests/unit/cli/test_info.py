"""Client-side rules of what the CLI shows: phase, set weight, pod status, ages, list rows."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.cli import info, list_view, objects, render, replicaset_tree, summary


def rollout(spec: dict[str, Any], status: dict[str, Any], generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": "r", "namespace": "ns", "generation": generation}, "spec": spec, "status": status}


CANARY = {"replicas": 2, "strategy": {"canary": {"steps": [{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}]}}}


def test_status_phase_is_trusted_when_generation_observed() -> None:
    assert summary.rollout_phase(rollout(CANARY, {"phase": "Paused", "message": "m", "observedGeneration": "1"})) == (
        "Paused",
        "m",
    )


def test_unobserved_generation_and_unpausing_are_progressing() -> None:
    stale = rollout(CANARY, {"phase": "Healthy", "observedGeneration": "1"}, generation=2)
    assert summary.rollout_phase(stale) == ("Progressing", "waiting for rollout spec update to be observed")
    unpausing = rollout(CANARY, {"phase": "Paused", "controllerPause": True, "pauseConditions": None})
    assert summary.rollout_phase(unpausing) == ("Progressing", "waiting for rollout to unpause")


@pytest.mark.parametrize(
    ("spec_extra", "status", "expected"),
    [
        ({}, {"conditions": [{"type": "InvalidSpec", "message": "bad"}]}, ("Degraded", "InvalidSpec: bad")),
        (
            {},
            {"conditions": [{"type": "Progressing", "reason": "RolloutAborted", "message": "x"}]},
            ("Degraded", "RolloutAborted: x"),
        ),
        ({"paused": True}, {}, ("Paused", "manually paused")),
        ({}, {"pauseConditions": [{"reason": "CanaryPauseStep"}]}, ("Paused", "CanaryPauseStep")),
        ({}, {"updatedReplicas": 1}, ("Progressing", "more replicas need to be updated")),
        (
            {},
            {"updatedReplicas": 2, "availableReplicas": 1},
            ("Progressing", "updated replicas are still becoming available"),
        ),
        (
            {},
            {"updatedReplicas": 2, "availableReplicas": 2, "replicas": 3},
            ("Progressing", "old replicas are pending termination"),
        ),
        (
            {},
            {"updatedReplicas": 2, "availableReplicas": 2, "replicas": 2, "stableRS": "a", "currentPodHash": "b"},
            ("Progressing", "waiting for all steps to complete"),
        ),
        (
            {},
            {"updatedReplicas": 2, "availableReplicas": 2, "replicas": 2, "stableRS": "a", "currentPodHash": "a"},
            ("Healthy", ""),
        ),
    ],
)
def test_calculated_phase_without_controller_phase(
    spec_extra: dict[str, Any], status: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert summary.rollout_phase(rollout({**CANARY, **spec_extra}, status)) == expected


def test_blue_green_cutover_pending() -> None:
    spec = {"replicas": 1, "strategy": {"blueGreen": {"activeService": "a"}}}
    status = {"updatedReplicas": 1, "availableReplicas": 1, "currentPodHash": "b", "blueGreen": {"activeSelector": "a"}}
    assert summary.rollout_phase(rollout(spec, status)) == ("Progressing", "active service cutover pending")


def test_set_weight_follows_last_set_weight_step() -> None:
    assert summary.current_set_weight(rollout(CANARY, {"currentStepIndex": 1})) == 10
    assert summary.current_set_weight(rollout(CANARY, {"currentStepIndex": 2})) == 50
    assert summary.current_set_weight(rollout(CANARY, {"currentStepIndex": 3})) == 100
    assert summary.current_set_weight(rollout(CANARY, {"currentStepIndex": 2, "abort": True})) == 0
    no_weight_first = {"strategy": {"canary": {"steps": [{"pause": {}}, {"setWeight": 30}]}}}
    assert summary.current_set_weight(rollout(no_weight_first, {})) == 0


def test_pod_status_like_kubectl() -> None:
    waiting = {
        "status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ErrImagePull"}}}]}
    }
    assert replicaset_tree.pod_status({"spec": {"containers": [{}]}, **waiting}) == ("ErrImagePull", "0/1", 0)
    assert replicaset_tree.pod_icon("ErrImagePull") == "⚠"
    crashed = {
        "spec": {"containers": [{}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"restartCount": 3, "state": {"terminated": {"exitCode": 1}}}],
        },
    }
    assert replicaset_tree.pod_status(crashed) == ("ExitCode:1", "0/1", 3)
    deleting = {"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "spec": {}, "status": {"phase": "Running"}}
    assert replicaset_tree.pod_status(deleting)[0] == "Terminating"
    init = {
        "spec": {"initContainers": [{"name": "i"}], "containers": [{}]},
        "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"running": {}}}]},
    }
    assert replicaset_tree.pod_status(init)[0] == "Init:0/1"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (30 * 3600, "30h"),
        (50 * 3600, "2d2h"),
        (20 * 86400, "20d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert objects.human_duration(seconds) == text


def test_list_row_and_table() -> None:
    row = list_view.list_row(
        rollout(
            CANARY,
            {
                "phase": "Paused",
                "currentStepIndex": 1,
                "readyReplicas": 2,
                "replicas": 3,
                "updatedReplicas": 1,
                "availableReplicas": 2,
            },
        )
    )
    assert row == list_view.ListRow("ns", "r", "Canary", "Paused", "1/3", "10", "2/3", 2, 1, 2)
    blue_green = list_view.list_row(rollout({"strategy": {"blueGreen": {}}}, {}))
    assert (blue_green.strategy, blue_green.step, blue_green.set_weight, blue_green.desired) == (
        "BlueGreen",
        "-",
        "-",
        1,
    )
    table = render.render_table(
        [render.list_header(all_namespaces=True, timestamps=False), render.list_cells(row, all_namespaces=True)]
    ).splitlines()
    assert table[0].split() == [
        "NAMESPACE",
        "NAME",
        "STRATEGY",
        "STATUS",
        "STEP",
        "SET-WEIGHT",
        "READY",
        "DESIRED",
        "UP-TO-DATE",
        "AVAILABLE",
    ]
    assert table[1].split() == ["ns", "r", "Canary", "Paused", "1/3", "10", "2/3", "2", "1", "2"]
    assert table[0].index("STATUS") == table[1].index("Paused")


def test_missing_fields_never_raise() -> None:
    view = info.rollout_view({}, replica_sets=[{}], pods=[{}], analysis_runs=[{}], now=objects.utc_now())
    assert view.strategy == "unknown"
    assert render.render_rollout(view).plain.startswith("Name:")
