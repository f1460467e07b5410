"""`lint`'s warnings: valid specs that will not behave as their author likely expects.

The controller accepts these, so they are warnings (they do not change lint's
exit code), but `rollouts plan` shows what they lead to: a canary pause without
a duration in a rollout no analysis checks (it waits for a human forever in an
automated pipeline), a canary weight the replica count
cannot express without traffic routing (the traffic share follows the pod
count), and an analysis naming a template the file does not hold (only checked
when the file holds templates, since they are often applied separately).

Deliberately not warned about: timed pauses adding up to more than
progressDeadlineSeconds. The progress deadline does not run while a rollout is
paused (a paused rollout's Progressing condition has the RolloutPaused reason,
which the deadline check skips, as in Argo), so long pauses never trip it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rollouts.rollout.canary_math import approximate_weighted_counts, resolve_fenceposts

CLUSTER_TEMPLATE_KIND = "ClusterAnalysisTemplate"
TEMPLATE_KINDS = ("AnalysisTemplate", CLUSTER_TEMPLATE_KIND)


@dataclass(frozen=True)
class LintWarning:
    """One warning: the field path it is about (for the line) and what to say."""

    path: str
    message: str


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def has_analysis(strategy: dict[str, Any]) -> bool:
    """Whether any analysis (background, step, pre/post-promotion) checks the update."""
    return any(True for _ in _template_refs(strategy, ""))


def pause_warnings(strategy: dict[str, Any]) -> Iterator[LintWarning]:
    """Canary pauses without a duration in a rollout no analysis checks: a human must look, then promote.

    With an analysis, an open pause is a deliberate gate after it; blue-green's
    autoPromotionEnabled: false is such an explicit choice too, so neither warns.
    """
    canary = strategy.get("canary")
    if not isinstance(canary, dict) or has_analysis(strategy):
        return
    for index, step in enumerate(canary.get("steps") or []):
        pause = _mapping(step).get("pause")
        if isinstance(pause, dict) and pause.get("duration") in (None, ""):
            yield LintWarning(
                f"spec.strategy.canary.steps[{index}].pause",
                "pause without a duration and no analysis: the update waits here for a human "
                "(`rollouts promote`), so an automated pipeline would wait forever; give it a duration",
            )


def weight_warnings(spec: dict[str, Any]) -> Iterator[LintWarning]:
    """setWeight values the replica count cannot express when the traffic share is the pod share."""
    canary = _mapping(_mapping(spec.get("strategy")).get("canary"))
    if not canary or canary.get("trafficRouting"):
        return
    replicas_value = spec.get("replicas")
    replicas = int(replicas_value) if isinstance(replicas_value, int) else 1
    surge, _ = resolve_fenceposts(
        max_surge=canary.get("maxSurge", "25%"), max_unavailable=canary.get("maxUnavailable", "25%"), replicas=replicas
    )
    for index, step in enumerate(canary.get("steps") or []):
        weight = _mapping(step).get("setWeight")
        if not isinstance(weight, int) or isinstance(weight, bool) or weight in (0, 100) or replicas == 0:
            continue
        new, stable = approximate_weighted_counts(replicas=replicas, weight=weight, max_weight=100, max_surge=surge)
        total = new + stable
        if new * 100 == weight * total:
            continue
        share = round(new * 100 / total) if total else 0
        yield LintWarning(
            f"spec.strategy.canary.steps[{index}].setWeight",
            f"setWeight {weight} cannot be met with {replicas} replica{'s' if replicas != 1 else ''} "
            f"without trafficRouting: {new} of {total} pods run the canary, so it gets about {share}% "
            "of the traffic",
        )


def _template_refs(value: Any, path: str) -> Iterator[tuple[str, bool, str]]:
    """(path, clusterScope, templateName) of every template reference under `value`."""
    if isinstance(value, dict):
        name = value.get("templateName")
        if isinstance(name, str) and name:
            yield path, bool(value.get("clusterScope")), name
        for key, item in value.items():
            yield from _template_refs(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _template_refs(item, f"{path}[{index}]")


def template_warnings(strategy: dict[str, Any], templates: set[tuple[bool, str]]) -> Iterator[LintWarning]:
    """Analyses naming a template the file does not hold (the caller only asks when it holds some)."""
    for path, cluster, name in _template_refs(strategy, "spec.strategy"):
        if (cluster, name) not in templates:
            kind = CLUSTER_TEMPLATE_KIND if cluster else "AnalysisTemplate"
            yield LintWarning(
                f"{path}.templateName",
                f'{kind} "{name}" is not in this file: the AnalysisRun fails unless it exists in the cluster',
            )


def file_templates(documents: list[Any]) -> set[tuple[bool, str]]:
    """(clusterScope, name) of every analysis template in the file's documents."""
    found: set[tuple[bool, str]] = set()
    for doc in documents:
        if isinstance(doc, dict) and doc.get("kind") in TEMPLATE_KINDS:
            name = _mapping(doc.get("metadata")).get("name")
            if isinstance(name, str):
                found.add((doc["kind"] == CLUSTER_TEMPLATE_KIND, name))
    return found


def rollout_warnings(rollout: dict[str, Any], *, templates: set[tuple[bool, str]]) -> list[LintWarning]:
    """Every warning for one valid Rollout; `templates` empty means the file holds none (not checked then)."""
    spec = _mapping(rollout.get("spec"))
    strategy = _mapping(spec.get("strategy"))
    found = [*pause_warnings(strategy), *weight_warnings(spec)]
    if templates:
        found += template_warnings(strategy, templates)
    return found
