"""ReplicaSet helpers and status rules behave as Argo's utils/replicaset, utils/annotations and utils/conditions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rollouts.api.phases import calculate_rollout_phase
from rollouts.api.timestamps import format_time
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.restart import needs_restart, plan_restart, pod_available
from tests.unit.rollout.sim import START, rollout

EXISTING = {"labels": {"aaa": "111", "bbb": "222"}, "annotations": {"ccc": "333", "ddd": "444"}}
LIVE = {
    "labels": {"aaa": "111", "do-not": "touch", "bbb": "222"},
    "annotations": {"ccc": "333", "do-not": "touch", "ddd": "444"},
}


def test_ephemeral_metadata_sync_is_argos() -> None:
    same, modified = rsutil.sync_ephemeral_metadata(LIVE, existing=EXISTING, desired=EXISTING)
    assert not modified and same == LIVE
    extra = {"labels": {**EXISTING["labels"], "foo": "bar"}, "annotations": EXISTING["annotations"]}
    same, modified = rsutil.sync_ephemeral_metadata(LIVE, existing=extra, desired=EXISTING)
    assert not modified and same == LIVE, "removing what is not there is no change"
    desired = {"labels": {"aaa": "222"}, "annotations": {"ccc": "444"}}
    updated, modified = rsutil.sync_ephemeral_metadata(LIVE, existing=EXISTING, desired=desired)
    assert modified
    assert updated == {
        "labels": {"aaa": "222", "do-not": "touch"},
        "annotations": {"ccc": "444", "do-not": "touch"},
    }, "metadata we did not inject is left alone"


def rs_with_metadata() -> dict[str, Any]:
    return {
        "metadata": {
            "name": "guestbook",
            "annotations": {
                "rollout.argoproj.io/ephemeral-metadata": (
                    '{"labels":{"aaa":"111","bbb":"222"},"annotations":{"ccc":"333","ddd":"444"}}'
                )
            },
        },
        "spec": {
            "template": {"metadata": {"labels": dict(EXISTING["labels"]), "annotations": dict(EXISTING["annotations"])}}
        },
    }


def test_replicaset_ephemeral_patch() -> None:
    rs = rs_with_metadata()
    assert rsutil.ephemeral_metadata_patch(rs, EXISTING) is None
    patch = rsutil.ephemeral_metadata_patch(rs, {"labels": {"aaa": "111"}, "annotations": {"ccc": "333"}})
    assert patch == {
        "metadata": {
            "annotations": {
                "rollout.argoproj.io/ephemeral-metadata": '{"labels":{"aaa":"111"},"annotations":{"ccc":"333"}}'
            }
        },
        "spec": {"template": {"metadata": {"labels": {"bbb": None}, "annotations": {"ddd": None}}}},
    }
    removal = rsutil.ephemeral_metadata_patch(rs, None)
    assert removal is not None
    assert removal["metadata"]["annotations"] == {"rollout.argoproj.io/ephemeral-metadata": None}
    assert removal["spec"]["template"]["metadata"] == {
        "labels": {"aaa": None, "bbb": None},
        "annotations": {"ccc": None, "ddd": None},
    }


def live_rs(template: dict[str, Any], pod_hash: str = "abc") -> dict[str, Any]:
    return {
        "metadata": {"name": f"app-{pod_hash}", "labels": {"rollouts-pod-template-hash": pod_hash}},
        "spec": {"template": template},
    }


TEMPLATE = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}


def test_template_match_allows_server_defaults_and_ignores_the_hash_label() -> None:
    live = {
        "metadata": {"labels": {"app": "a", "rollouts-pod-template-hash": "abc"}, "creationTimestamp": None},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i:1",
                    "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "resources": {},
                }
            ],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30,
        },
    }
    assert rsutil.template_matches(live_rs(live), TEMPLATE)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t["spec"]["containers"][0].update(image="i:2"),
        lambda t: t["metadata"]["labels"].update(extra="x"),
        lambda t: t["spec"]["containers"][0].update(env=[{"name": "A", "value": "1"}]),
        lambda t: t["spec"]["containers"].append({"name": "side", "image": "s"}),
        lambda t: t["metadata"].update(annotations={"team": "a"}),
    ],
)
def test_template_match_sees_real_differences_both_ways(change: Any) -> None:
    import copy

    changed = copy.deepcopy(TEMPLATE)
    change(changed)
    assert not rsutil.template_matches(live_rs(changed), TEMPLATE), "a field the live RS has and we dropped"
    assert not rsutil.template_matches(live_rs(TEMPLATE), changed), "a field we added"


def test_template_match_ignores_injected_ephemeral_metadata() -> None:
    live = {"metadata": {"labels": {"app": "a", "role": "canary"}}, "spec": TEMPLATE["spec"]}
    rs = live_rs(live)
    rs["metadata"]["annotations"] = {"rollout.argoproj.io/ephemeral-metadata": '{"labels":{"role":"canary"}}'}
    assert rsutil.template_matches(rs, TEMPLATE)


def test_revision_sync_patch_bumps_revision_and_keeps_history() -> None:
    ro = rollout()
    ro["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "rollout.argoproj.io/revision": "2",
        "team": "a",
    }
    rs = {"metadata": {"name": "x", "annotations": {"rollout.argoproj.io/revision": "1", "team": "a"}}, "spec": {}}
    assert rsutil.revision_sync_patch(rs, rollout=ro, new_revision=1) is None
    assert rsutil.revision_sync_patch(rs, rollout=ro, new_revision=3) == {
        "metadata": {"annotations": {"rollout.argoproj.io/revision": "3", "rollout.argoproj.io/revision-history": "1"}}
    }
    rs["metadata"]["annotations"]["rollout.argoproj.io/revision-history"] = "1"
    rs["metadata"]["annotations"]["rollout.argoproj.io/revision"] = "3"
    patch = rsutil.revision_sync_patch(rs, rollout=ro, new_revision=5)
    assert patch is not None
    assert patch["metadata"]["annotations"]["rollout.argoproj.io/revision-history"] == "1,3"
    ro["spec"]["minReadySeconds"] = 10
    assert rsutil.revision_sync_patch(rs, rollout=ro, new_revision=3) == {"spec": {"minReadySeconds": 10}}


def test_new_replicaset_copies_rollout_annotations_except_argos_own() -> None:
    ro = rollout()
    ro["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "rollout.argoproj.io/revision": "7",
        "notified.notifications.argoproj.io": "x",
        "team": "a",
    }
    body = rsutil.new_replicaset(rollout=ro, template=ro["spec"]["template"], pod_hash="h", revision_number=8)
    assert body["metadata"]["annotations"] == {"team": "a", "rollout.argoproj.io/revision": "8"}


def test_format_selector() -> None:
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "x", "operator": "Exists"},
        ],
    }
    assert rsutil.format_selector(selector) == "a=1,b=2,tier in (api,web),x"


# --------------------------------------------------------------------------- conditions


def test_set_condition_keeps_times_unless_status_or_reason_change() -> None:
    status: dict[str, Any] = {}
    first = cond.new_condition("Progressing", "True", "ReplicaSetUpdated", "a", START)
    assert cond.set_condition(status, first)
    later = START + timedelta(seconds=10)
    assert not cond.set_condition(status, cond.new_condition("Progressing", "True", "ReplicaSetUpdated", "b", later))
    assert status["conditions"] == [first], "same status and reason: untouched"
    assert cond.set_condition(status, cond.new_condition("Progressing", "True", "NewReplicaSetAvailable", "c", later))
    assert status["conditions"][0]["lastTransitionTime"] == format_time(START)
    assert status["conditions"][0]["lastUpdateTime"] == format_time(later)
    assert cond.set_condition(
        status, cond.new_condition("Progressing", "False", "ProgressDeadlineExceeded", "d", later)
    )
    assert status["conditions"][0]["lastTransitionTime"] == format_time(later)


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        (
            {},
            {"conditions": [{"type": "InvalidSpec", "status": "True", "message": "m"}]},
            ("Degraded", "InvalidSpec: m"),
        ),
        (
            {"paused": True},
            {"conditions": [{"type": "Progressing", "reason": "RolloutAborted", "message": "x"}]},
            ("Degraded", "RolloutAborted: x"),
        ),
        ({"paused": True}, {"pauseConditions": [{"reason": "CanaryPauseStep"}]}, ("Paused", "manually paused")),
        ({}, {"pauseConditions": [{"reason": "CanaryPauseStep"}]}, ("Paused", "CanaryPauseStep")),
        ({}, {"updatedReplicas": 2}, ("Progressing", "more replicas need to be updated")),
        (
            {},
            {"updatedReplicas": 3, "availableReplicas": 2},
            ("Progressing", "updated replicas are still becoming available"),
        ),
        (
            {},
            {"updatedReplicas": 3, "availableReplicas": 3, "replicas": 4},
            ("Progressing", "old replicas are pending termination"),
        ),
        (
            {},
            {"updatedReplicas": 3, "availableReplicas": 3, "replicas": 3, "stableRS": "a", "currentPodHash": "b"},
            ("Progressing", "waiting for all steps to complete"),
        ),
        (
            {},
            {"updatedReplicas": 3, "availableReplicas": 3, "replicas": 3, "stableRS": "a", "currentPodHash": "a"},
            ("Healthy", ""),
        ),
    ],
)
def test_phase_follows_argos_order(spec: dict[str, Any], status: dict[str, Any], expected: tuple[str, str]) -> None:
    full_spec = {"strategy": {"canary": {}}, **spec}
    assert calculate_rollout_phase(spec=full_spec, status=status, replicas=3, now_restart_pending=False) == expected


def test_timed_out_needs_the_deadline_to_pass_and_never_while_paused() -> None:
    status = {"conditions": [cond.new_condition("Progressing", "True", "ReplicaSetUpdated", "", START)]}
    assert not cond.rollout_timed_out(status=status, deadline_seconds=60, now=START + timedelta(seconds=60))
    assert cond.rollout_timed_out(status=status, deadline_seconds=60, now=START + timedelta(seconds=61))
    paused = {"conditions": [cond.new_condition("Progressing", "Unknown", "RolloutPaused", "", START)]}
    assert not cond.rollout_timed_out(status=paused, deadline_seconds=60, now=START + timedelta(days=1))


# --------------------------------------------------------------------------- restart


def pod(name: str, created: str, *, ready: bool = True, since: str = "2026-01-01T11:00:00Z") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": name, "creationTimestamp": created},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": since}]
        },
    }


def test_restart_batches_never_cost_more_than_max_unavailable() -> None:
    pods = [pod(f"p{i}", "2026-01-01T10:00:00Z") for i in range(4)]
    decision = plan_restart(
        pods=pods, restart_at="2026-01-01T11:30:00Z", replicas=4, total_spec_replicas=4,
        max_unavailable=1, min_ready_seconds=0, now=START,
    )  # fmt: skip
    assert [p["metadata"]["name"] for p in decision.to_delete] == ["p0"]
    assert decision.remaining == 3
    pods[0] = pod("p9", "2026-01-01T11:59:00Z", ready=False)
    decision = plan_restart(
        pods=pods, restart_at="2026-01-01T11:30:00Z", replicas=4, total_spec_replicas=4,
        max_unavailable=1, min_ready_seconds=0, now=START,
    )  # fmt: skip
    assert decision.to_delete == [] and decision.remaining == 3, "the replacement is not ready yet"


def test_restart_timing_and_availability() -> None:
    assert not needs_restart(restart_at=None, restarted_at=None, now=START)
    assert not needs_restart(restart_at="2026-01-01T12:00:00Z", restarted_at=None, now=START)
    assert needs_restart(restart_at="2026-01-01T11:59:59Z", restarted_at=None, now=START)
    assert not needs_restart(restart_at="2026-01-01T11:59:59Z", restarted_at="2026-01-01T11:59:59Z", now=START)
    fresh = pod("p", "2026-01-01T11:59:00Z", since="2026-01-01T11:59:55Z")
    assert pod_available(fresh, min_ready_seconds=0, now=START)
    assert not pod_available(fresh, min_ready_seconds=10, now=START)
    assert pod_available(fresh, min_ready_seconds=4, now=START)
