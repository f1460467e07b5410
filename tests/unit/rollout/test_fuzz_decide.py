"""Fuzzing decide(): no Rollout the API server accepts may make a reconcile raise (issue #13).

One tenant's bad input must never crash, stall or leak. The CRD schema lets
through huge and negative integers, any string where an int-or-string or a
duration goes, malformed timestamps and deep nesting in free-form fields, and
anyone who can edit a ReplicaSet or the status can write anything there. Each
example takes one of a few worlds simulated once (a canary, a blue-green and a
rolling update caught mid-way, with their ReplicaSets), writes hostile values
into the rollout's spec, its status, its annotations and its ReplicaSets, and
calls decide() once. It must return a plan; when the plan says InvalidSpec,
the message must name one of the fields that were written.

The number of examples is small enough for the normal suite; set
ROLLOUTS_FUZZ_EXAMPLES (e.g. 20000) for a long run. Examples are derandomized
and no example database is used, so the suite is deterministic.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollouts.api.constants import (
    CONDITION_INVALID_SPEC,
    DESIRED_REPLICAS_ANNOTATION,
    EPHEMERAL_METADATA_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.rollout.context import Observed
from rollouts.rollout.decide import decide
from tests.unit.rollout.sim import World, blue_green_rollout, rollout, service

EXAMPLES = int(os.environ.get("ROLLOUTS_FUZZ_EXAMPLES", "800"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# ------------------------------------------------------------------ hostile values

HUGE_INTS = [
    -1,
    0,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63),
    10**30,
    -(10**30),
    10**400,
]
INTS = st.one_of(st.integers(-3, 60), st.sampled_from(HUGE_INTS), st.integers(-(2**80), 2**80))
ODD_STRINGS = [
    "",
    " ",
    "%",
    "-5%",
    "1.5%",
    "0x10",
    "1e309",
    "NaN",
    "inf",
    "٣%",
    "1" * 5000 + "%",
    "9" * 5000,
    "999999999h",
    "9" * 400 + "h",
    "-999999999h",
    "1.7976931348623157e308s",
    "0.0000000001ns",
    "25%%",
    "+-3",
    "\x00",
    "🙂",
]
STRINGS = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=12))
DURATIONS = st.one_of(st.sampled_from(["30s", "1m30s", "500ms", "0s", "1h", "-1s"]), STRINGS, INTS)
INT_OR_STRING = st.one_of(INTS, STRINGS, st.sampled_from(["0%", "25%", "100%", "101%", "200%"]))
TIMES = st.one_of(
    st.sampled_from(
        [
            "2026-01-01T12:00:00Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "2026-13-45T99:00:00Z",
            "2026-01-01T12:00:00+23:59",
            "2026-01-01",
            "yesterday",
            "",
        ]
    ),
    STRINGS,
)


@dataclass(frozen=True)
class Deep:
    """Stands for {"a": {"a": ... {}}} `depth` levels deep (the API server allows 10000), built only
    when written, so that hypothesis never has to print it."""

    depth: int

    def build(self) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for _ in range(self.depth):
            value = {"a": value}
        return value


DEEP = st.sampled_from([40, 99, 120, 1500, 10_000]).map(Deep)
SHALLOW_JSON = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    STRINGS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(INTS, max_size=3),
    st.dictionaries(st.text(max_size=4), INTS, max_size=3),
)
ANY_JSON = st.one_of(SHALLOW_JSON, DEEP)


def schema_values(kind: str, path: tuple[Any, ...], *, core: bool = False) -> st.SearchStrategy[Any]:
    """Values of a field's CRD type; now and then something else where the schema is free-form or a
    foreign writer may put anything (status). Labels and annotations are always strings; a `core`
    object (a ReplicaSet: typed by the API server) gets no deep nesting."""
    typed = {
        "int": INTS,
        "intstr": INT_OR_STRING,
        "duration": DURATIONS,
        "str": STRINGS,
        "time": TIMES,
        "bool": st.booleans(),
        "any": SHALLOW_JSON if core else ANY_JSON,
    }[kind]
    if STRING_ONLY & set(path):
        return typed
    return st.one_of(typed, typed, typed, SHALLOW_JSON if core else ANY_JSON)


# ------------------------------------------------------------------ where they go

CANARY = ("spec", "strategy", "canary")
BLUE_GREEN = ("spec", "strategy", "blueGreen")
FIELDS: list[tuple[tuple[Any, ...], str]] = [
    (("metadata", "generation"), "int"),
    (("metadata", "annotations", REVISION_ANNOTATION), "str"),
    (("spec", "replicas"), "int"),
    (("spec", "minReadySeconds"), "int"),
    (("spec", "progressDeadlineSeconds"), "int"),
    (("spec", "progressDeadlineAbort"), "bool"),
    (("spec", "revisionHistoryLimit"), "int"),
    (("spec", "restartAt"), "time"),
    (("spec", "paused"), "bool"),
    (("spec", "rollbackWindow", "revisions"), "int"),
    (("spec", "analysis", "successfulRunHistoryLimit"), "int"),
    (("spec", "template", "metadata", "annotations", "x"), "str"),
    (("spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"), "intstr"),
    (("spec", "template", "spec", "containers", 0, "ports"), "any"),
    (("spec", "template", "spec", "affinity"), "any"),
    (("spec", "template", "spec", "terminationGracePeriodSeconds"), "int"),
    ((*CANARY, "maxSurge"), "intstr"),
    ((*CANARY, "maxUnavailable"), "intstr"),
    ((*CANARY, "scaleDownDelaySeconds"), "int"),
    ((*CANARY, "abortScaleDownDelaySeconds"), "int"),
    ((*CANARY, "minPodsPerReplicaSet"), "int"),
    ((*CANARY, "steps", 0, "setWeight"), "int"),
    ((*CANARY, "steps", 1, "pause", "duration"), "duration"),
    ((*CANARY, "steps", 2), "any"),
    ((*CANARY, "steps", 3, "setCanaryScale", "replicas"), "int"),
    ((*CANARY, "steps", 3, "setCanaryScale", "weight"), "int"),
    ((*CANARY, "analysis", "startingStep"), "int"),
    ((*CANARY, "analysis", "templates", 0, "templateName"), "str"),
    ((*CANARY, "analysis", "args", 0, "value"), "str"),
    ((*CANARY, "trafficRouting", "maxTrafficWeight"), "int"),
    ((*CANARY, "replicaProgressThreshold", "value"), "int"),
    ((*BLUE_GREEN, "autoPromotionSeconds"), "int"),
    ((*BLUE_GREEN, "previewReplicaCount"), "int"),
    ((*BLUE_GREEN, "scaleDownDelaySeconds"), "int"),
    ((*BLUE_GREEN, "scaleDownDelayRevisionLimit"), "int"),
    ((*BLUE_GREEN, "abortScaleDownDelaySeconds"), "int"),
    ((*BLUE_GREEN, "autoPromotionEnabled"), "bool"),
    (("status", "currentStepIndex"), "int"),
    (("status", "collisionCount"), "int"),
    (("status", "observedGeneration"), "str"),
    (("status", "stableRS"), "str"),
    (("status", "currentPodHash"), "str"),
    (("status", "abortedAt"), "time"),
    (("status", "restartedAt"), "time"),
    (("status", "abort"), "bool"),
    (("status", "replicas"), "int"),
    (("status", "HPAReplicas"), "int"),
    (("status", "pauseConditions", 0, "startTime"), "time"),
    (("status", "pauseConditions", 0, "reason"), "str"),
    (("status", "conditions", 0, "lastUpdateTime"), "time"),
    (("status", "conditions", 0, "lastTransitionTime"), "time"),
    (("status", "conditions", 0, "status"), "str"),
    (("status", "canary", "currentStepAnalysisRunStatus"), "any"),
    (("status", "canary", "weights"), "any"),
    (("status", "blueGreen", "scaleUpPreviewCheckPoint"), "any"),
    (("status", "blueGreen", "activeSelector"), "str"),
    (("status", "unknownField"), "any"),
]
RS_FIELDS: list[tuple[tuple[Any, ...], str]] = [
    (("metadata", "annotations", REVISION_ANNOTATION), "str"),
    (("metadata", "annotations", REVISION_HISTORY_ANNOTATION), "str"),
    (("metadata", "annotations", DESIRED_REPLICAS_ANNOTATION), "str"),
    (("metadata", "annotations", SCALE_DOWN_DEADLINE_ANNOTATION), "time"),
    (("metadata", "annotations", EPHEMERAL_METADATA_ANNOTATION), "str"),
    (("metadata", "creationTimestamp"), "time"),
    (("metadata", "generation"), "int"),
    (("metadata", "deletionTimestamp"), "time"),
    (("spec", "replicas"), "int"),
    (("spec", "minReadySeconds"), "int"),
    (("status", "replicas"), "int"),
    (("status", "readyReplicas"), "int"),
    (("status", "availableReplicas"), "int"),
    (("status", "observedGeneration"), "int"),
    (("status", "conditions"), "any"),
]
STRING_ONLY = {"annotations", "labels"}


TEMPLATE_FIELDS: list[tuple[tuple[Any, ...], str]] = [
    (("spec", "metrics", 0, "count"), "intstr"),
    (("spec", "metrics", 0, "interval"), "duration"),
    (("spec", "metrics", 0, "failureLimit"), "intstr"),
    (("spec", "metrics", 0, "provider", "web", "timeoutSeconds"), "int"),
    (("spec", "metrics", 0, "provider", "web", "body"), "any"),
    (("spec", "args", 0, "value"), "str"),
    (("spec", "dryRun", 0, "metricName"), "str"),
    (("spec", "measurementRetention", 0, "limit"), "int"),
]
TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AnalysisTemplate",
    "metadata": {"name": "smoke", "namespace": "ns"},
    "spec": {"metrics": [{"name": "ok", "provider": {"web": {"url": "http://127.0.0.1:1/"}}}]},
}


@dataclass(frozen=True)
class Write:
    """One hostile value at one path: into the rollout (rs is None), into ReplicaSet number `rs`,
    or into the AnalysisTemplate the analysed world uses (`template`)."""

    path: tuple[Any, ...]
    value: Any
    rs: int | None = None
    template: bool = False


def writes() -> st.SearchStrategy[list[Write]]:
    to_rollout = st.sampled_from(FIELDS).flatmap(
        lambda field: schema_values(field[1], field[0]).map(lambda value: Write(path=field[0], value=value))
    )
    to_rs = st.tuples(st.integers(0, 3), st.sampled_from(RS_FIELDS)).flatmap(
        lambda pick: schema_values(pick[1][1], pick[1][0], core=True).map(
            lambda value: Write(path=pick[1][0], value=value, rs=pick[0])
        )
    )
    to_template = st.sampled_from(TEMPLATE_FIELDS).flatmap(
        lambda field: schema_values(field[1], field[0]).map(
            lambda value: Write(path=field[0], value=value, template=True)
        )
    )
    return st.lists(st.one_of(to_rollout, to_rollout, to_rs, to_template), min_size=1, max_size=4)


def put(target: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set `value` at `path`, creating what is missing (a list grows to the index)."""
    if isinstance(value, Deep):
        value = value.build()
    for number, key in enumerate(path):
        last = number == len(path) - 1
        following: Any = value if last else ([] if isinstance(path[number + 1], int) else {})
        if isinstance(key, int):
            if not isinstance(target, list):
                return
            while len(target) <= key:
                target.append({} if not last else None)
            if last or not isinstance(target[key], type(following)):
                target[key] = following
        else:
            if not isinstance(target, dict):
                return
            if last or not isinstance(target.get(key), type(following)):
                target[key] = following
        target = target[key]


# ------------------------------------------------------------------ the worlds


@cache
def worlds() -> tuple[World, ...]:
    """Four rollouts caught mid-update, simulated once; examples copy them."""
    steps = [{"setWeight": 20}, {"pause": {"duration": "30s"}}, {"setWeight": 60}, {"pause": {}}]
    canary = World(rollout(replicas=5, steps=steps, canaryService="canary", stableService="stable"))
    canary.services = {"canary": service("canary"), "stable": service("stable")}
    blue_green = World(blue_green_rollout(replicas=3, previewService="preview"))
    blue_green.services = {"active": service("active"), "preview": service("preview")}
    rolling = World(rollout(replicas=4, maxSurge=1, maxUnavailable=0))
    smoke = {"templates": [{"templateName": "smoke"}]}
    analysed = World(rollout(replicas=3, steps=[{"setWeight": 30}, {"analysis": smoke}, {"pause": {}}], analysis=smoke))
    analysed.analysis_templates = {(False, "smoke"): TEMPLATE}
    for world in (canary, blue_green, rolling, analysed):
        world.run()
        world.set_image("app:v2")
        for _ in range(3):
            world.reconcile()
            world.settle()
    return canary, blue_green, rolling, analysed


def hostile_world(pick: int, changes: list[Write]) -> Observed:
    observed = worlds()[pick].observed()
    for change in changes:
        if change.template:
            for template in observed.analysis_templates.values():
                put(template, change.path, change.value)
        elif change.rs is None:
            put(observed.rollout, change.path, change.value)
        elif observed.replicasets:
            put(observed.replicasets[change.rs % len(observed.replicasets)], change.path, change.value)
    return observed


def invalid_spec(status: Any) -> str | None:
    for condition in (status or {}).get("conditions") or []:
        if condition.get("type") == CONDITION_INVALID_SPEC and condition.get("status") == "True":
            return str(condition.get("message"))
    return None


def named_fields(changes: list[Write]) -> set[str]:
    """Names an InvalidSpec message may use for the written fields (the last key of each path, and its parents)."""
    names: set[str] = set()
    for change in changes:
        names.update(str(key) for key in change.path if isinstance(key, str))
    return names


@FUZZ
@given(pick=st.integers(0, 3), changes=writes())
def test_decide_never_raises_on_hostile_rollouts(pick: int, changes: list[Write]) -> None:
    observed = hostile_world(pick, changes)
    before = invalid_spec(worlds()[pick].ro.get("status"))
    assert before is None
    plan = decide(observed, worlds()[pick].now)
    message = invalid_spec(plan.status)
    if message is not None:
        assert any(name in message for name in named_fields(changes)), (message, changes)
    # What decide() wrote must itself be readable by the next reconcile.
    again = copy.copy(observed)
    object.__setattr__(again, "rollout", {**observed.rollout, "status": plan.status})
    decide(again, worlds()[pick].now)
