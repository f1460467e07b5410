"""The bodies the operator commands send: the same fields as Argo's plugin, per state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.cli import patches


def canary(status: dict[str, Any], *, paused: bool = False, steps: int = 4) -> dict[str, Any]:
    step_list = [{"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": 30}}][:steps]
    return {
        "metadata": {"name": "app", "generation": 2},
        "spec": {"replicas": 4, "paused": paused, "strategy": {"canary": {"steps": step_list}}},
        "status": {"observedGeneration": "2", **status},
    }


PAUSED_AT_STEP = {
    "phase": "Paused",
    "currentStepIndex": 1,
    "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
    "controllerPause": True,
    "stableRS": "aaa",
    "currentPodHash": "bbb",
}
HEALTHY = {"phase": "Healthy", "currentStepIndex": 4, "stableRS": "aaa", "currentPodHash": "aaa"}


def test_promote_paused_step_clears_pause_conditions_only() -> None:
    planned = patches.promote_patches(canary(PAUSED_AT_STEP))
    assert planned.status == {"status": {"pauseConditions": None}}
    assert planned.spec is None
    assert planned.unified == {"spec": {"paused": False}, "status": {"pauseConditions": None}}


def test_promote_manually_paused_also_unpauses_spec() -> None:
    planned = patches.promote_patches(canary(PAUSED_AT_STEP, paused=True))
    assert planned.spec == {"spec": {"paused": False}}
    assert planned.status == {"status": {"pauseConditions": None}}


def test_promote_while_running_a_step_skips_to_the_next_step() -> None:
    progressing = {"phase": "Progressing", "currentStepIndex": 2, "stableRS": "aaa", "currentPodHash": "bbb"}
    planned = patches.promote_patches(canary(progressing))
    assert planned.status == {"status": {"pauseConditions": None, "currentStepIndex": 3}}
    assert planned.unified == {"spec": {"paused": False}, "status": {"pauseConditions": None, "currentStepIndex": 3}}


def test_promote_after_inconclusive_analysis_moves_on_and_clears_controller_pause() -> None:
    status = {
        **PAUSED_AT_STEP,
        "currentStepIndex": 2,
        "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
        "canary": {"currentStepAnalysisRunStatus": {"name": "r", "status": "Inconclusive"}},
    }
    planned = patches.promote_patches(canary(status))
    assert planned.status == {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 3}}


def test_promote_full_sets_promote_full_when_not_yet_stable() -> None:
    planned = patches.promote_patches(canary(PAUSED_AT_STEP, paused=True), full=True)
    assert planned.status == {"status": {"promoteFull": True}}
    assert planned.spec == {"spec": {"paused": False}}
    assert planned.unified == {"spec": {"paused": False}, "status": {"promoteFull": True}}


def test_promote_on_healthy_rollout_is_a_wrong_state_error() -> None:
    with pytest.raises(patches.WrongStateError, match=r"app.*Healthy.*nothing to promote"):
        patches.promote_patches(canary(HEALTHY))
    with pytest.raises(patches.WrongStateError):
        patches.promote_patches(canary(HEALTHY), full=True)


def test_promote_healthy_but_manually_paused_is_allowed() -> None:
    planned = patches.promote_patches(canary({**HEALTHY, "phase": ""}, paused=True))
    assert planned.spec == {"spec": {"paused": False}}


def test_skip_flags_are_rejected_for_blue_green_and_together() -> None:
    blue_green = {"metadata": {"name": "bg"}, "spec": {"strategy": {"blueGreen": {}}}, "status": {}}
    with pytest.raises(patches.WrongStateError, match="bluegreen"):
        patches.promote_patches(blue_green, skip_current_step=True)
    with pytest.raises(patches.WrongStateError, match="same time"):
        patches.promote_patches(canary(PAUSED_AT_STEP), skip_current_step=True, skip_all_steps=True)
    assert patches.promote_patches(canary(PAUSED_AT_STEP), skip_all_steps=True).status == {
        "status": {"currentStepIndex": 4}
    }


def test_restart_patch_is_rfc3339_utc_without_fraction() -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert patches.restart_patch(now, None) == ({"spec": {"restartAt": "2026-03-01T12:00:00Z"}}, "0s")
    assert patches.restart_patch(now, "1m30s") == ({"spec": {"restartAt": "2026-03-01T12:01:30Z"}}, "1m30s")
    with pytest.raises(ValueError, match="invalid --in"):
        patches.restart_patch(now, "soon")


@pytest.mark.parametrize("spec", ["app", "=img", "app=", "a=b=c", ""])
def test_bad_image_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="expected CONTAINER=IMAGE"):
        patches.parse_image_spec(spec)


def test_with_image_sets_named_or_all_containers_including_init() -> None:
    obj = {
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [{"name": "init", "image": "i:1"}],
                    "containers": [{"name": "app", "image": "a:1"}, {"name": "side", "image": "s:1"}],
                }
            }
        }
    }
    one = patches.with_image(obj, container="side", image="s:2")
    assert [c["image"] for c in one["spec"]["template"]["spec"]["containers"]] == ["a:1", "s:2"]
    assert obj["spec"]["template"]["spec"]["containers"][1]["image"] == "s:1"  # input untouched
    everything = patches.with_image(obj, container="*", image="x:9")
    pod = everything["spec"]["template"]["spec"]
    assert {c["image"] for c in pod["containers"] + pod["initContainers"]} == {"x:9"}
    with pytest.raises(ValueError, match='container named "nope"'):
        patches.with_image(obj, container="nope", image="x")


def _rs(revision: str | None, image: str) -> dict[str, Any]:
    annotations = {} if revision is None else {"rollout.argoproj.io/revision": revision}
    return {
        "metadata": {"name": f"rs-{revision}", "annotations": annotations},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "x", "rollouts-pod-template-hash": "h"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            }
        },
    }


def test_undo_picks_previous_revision_or_the_one_asked_for() -> None:
    sets = [_rs("3", "c"), _rs("1", "a"), _rs("2", "b"), _rs("bad", "z")]
    assert patches.revision_replica_set(sets, rollout_name="x", to_revision=0)["metadata"]["name"] == "rs-2"
    assert patches.revision_replica_set(sets, rollout_name="x", to_revision=1)["metadata"]["name"] == "rs-1"
    with pytest.raises(ValueError, match="revision 7"):
        patches.revision_replica_set(sets, rollout_name="x", to_revision=7)
    with pytest.raises(ValueError, match="no revision found"):
        patches.revision_replica_set([_rs("1", "a")], rollout_name="x", to_revision=0)


def test_undo_template_drops_hash_label_and_patch_replaces_template() -> None:
    template = patches.template_without_hash(_rs("1", "a"))
    assert template["metadata"]["labels"] == {"app": "x"}
    assert patches.undo_patch(template) == [{"op": "replace", "path": "/spec/template", "value": template}]


def test_derivative_ignores_unset_fields_of_the_partial_side() -> None:
    full = {"spec": {"containers": [{"name": "a", "image": "i", "imagePullPolicy": "Always"}], "dnsPolicy": "X"}}
    assert patches.is_derivative({"spec": {"containers": [{"name": "a", "image": "i"}]}}, full)
    assert not patches.is_derivative({"spec": {"containers": [{"name": "a", "image": "j"}]}}, full)
    assert not patches.is_derivative({"spec": {"containers": []} | {"dnsPolicy": "Y"}}, full)
    assert not patches.is_derivative({"spec": {"containers": [{}, {}]}}, full)


def test_controlled_by_requires_controller_reference() -> None:
    owned = {"metadata": {"ownerReferences": [{"uid": "u", "controller": True}]}}
    merely_owned = {"metadata": {"ownerReferences": [{"uid": "u"}]}}
    assert patches.controlled_by(owned, "u")
    assert not patches.controlled_by(merely_owned, "u")
    assert not patches.controlled_by(owned, "other")
