"""Tracking ids, apply/prune order, drift of managed fields, repository URL matching, webhook payloads."""

from __future__ import annotations

from typing import Any

from rollouts.api.gitsync import TRACKING_ANNOTATION
from rollouts.gitsync.diff import comparable, differences, project
from rollouts.gitsync.tracking import ResourceKey, apply_order, prune_order, tracked_by, tracking_id
from rollouts.gitsync.urls import same_repository
from rollouts.gitsync.webhook import repository_urls


def obj(kind: str, name: str, *, api_version: str = "v1", namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def test_tracking_id_names_gitsync_group_kind_namespace_and_name() -> None:
    key = ResourceKey.of(obj("Deployment", "web", api_version="apps/v1", namespace="shop"))
    assert tracking_id(gitsync_namespace="ops", gitsync_name="app", key=key) == "ops/app:apps/Deployment:shop/web"
    core = ResourceKey.of(obj("Namespace", "shop"))
    assert tracking_id(gitsync_namespace="ops", gitsync_name="app", key=core) == "ops/app:/Namespace:/shop"


def test_only_the_exact_tracking_id_counts() -> None:
    mine = "ops/app:/ConfigMap:shop/c"
    live = obj("ConfigMap", "c", namespace="shop")
    assert not tracked_by(live, mine)
    live["metadata"]["annotations"] = {TRACKING_ANNOTATION: "ops/other:/ConfigMap:shop/c"}
    assert not tracked_by(live, mine)
    live["metadata"]["annotations"] = {TRACKING_ANNOTATION: mine}
    assert tracked_by(live, mine)
    assert not tracked_by(live, "")


def test_apply_order_puts_namespaces_and_crds_first_and_prune_reverses_it() -> None:
    objects = [
        obj("Rollout", "r", api_version="argoproj.io/v1alpha1", namespace="a"),
        obj("Deployment", "d", api_version="apps/v1", namespace="a"),
        obj("Service", "s", namespace="a"),
        obj("CustomResourceDefinition", "widgets.example.com", api_version="apiextensions.k8s.io/v1"),
        obj("ConfigMap", "c", namespace="a"),
        obj("Namespace", "a"),
    ]
    kinds = [o["kind"] for o in apply_order(objects)]
    assert kinds == ["Namespace", "ConfigMap", "CustomResourceDefinition", "Service", "Deployment", "Rollout"]
    pruned = [k.kind for k in prune_order([ResourceKey.of(o) for o in objects])]
    assert pruned == list(reversed(kinds))


def test_server_defaults_and_other_managers_fields_are_not_drift() -> None:
    desired = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "template": {"spec": {"containers": [{"name": "web", "image": "web:1", "ports": [{"containerPort": 80}]}]}}
        },
    }
    live = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "extra": "x"}, "resourceVersion": "9", "uid": "u"},
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "web:1", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    ],
                    "restartPolicy": "Always",
                }
            },
        },
        "status": {"replicas": 3},
    }
    assert differences(desired, live) == []


def test_a_changed_managed_field_is_drift_and_named_by_path() -> None:
    desired = {"data": {"color": "blue"}, "spec": {"containers": [{"name": "app", "image": "a:1"}]}}
    live = {"data": {"color": "red"}, "spec": {"containers": [{"name": "app", "image": "a:2"}]}}
    assert differences(desired, live) == [".data.color", ".spec.containers[app].image"]
    assert differences({"data": {"k": "v"}}, {"data": {}}) == [".data.k"]
    assert differences({"items": [1, 2]}, {"items": [1]}) == [".items"]
    assert differences({"port": 80}, {"port": "80"}) == []  # int-or-string


def test_project_keeps_only_the_fields_git_sets() -> None:
    desired = {"metadata": {"name": "c"}, "data": {"a": "1"}}
    live = {"metadata": {"name": "c", "uid": "u"}, "data": {"a": "2", "b": "3"}, "status": {}}
    assert project(desired, live) == {"metadata": {"name": "c"}, "data": {"a": "2"}}


def test_repository_urls_match_across_spellings() -> None:
    assert same_repository("https://github.com/Org/App.git", "git@github.com:org/app.git")
    assert same_repository("https://user:token@github.com/org/app/", "https://github.com/org/app")
    assert same_repository("/srv/git/app", "file:///srv/git/app/")
    assert not same_repository("https://github.com/org/app", "https://github.com/org/app2")
    assert not same_repository("", "https://github.com/org/app")


def test_webhook_payload_urls_for_github_and_gitlab() -> None:
    github = {"repository": {"clone_url": "https://github.com/o/r.git", "html_url": "https://github.com/o/r"}}
    assert repository_urls(github) == ["https://github.com/o/r.git", "https://github.com/o/r"]
    gitlab = {
        "project": {"git_http_url": "https://gitlab.example/o/r.git", "git_ssh_url": "git@gitlab.example:o/r.git"}
    }
    assert repository_urls(gitlab) == ["https://gitlab.example/o/r.git", "git@gitlab.example:o/r.git"]
    assert repository_urls([]) == []


def test_resource_quantities_are_compared_by_value_as_the_server_canonicalises_them() -> None:
    desired = {
        "spec": {
            "containers": [{"name": "app", "resources": {"limits": {"cpu": 0.5, "memory": "1024Mi"}}}],
            "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1000M"}}],
        }
    }
    live = {
        "spec": {
            "containers": [{"name": "app", "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}}],
            "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1G"}}],
        }
    }
    assert differences(desired, live) == []
    live["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "600m"
    assert differences(desired, live) == [".spec.containers[app].resources.limits.cpu"]
    # Only quantity fields: elsewhere "1.0" and "1" are different strings.
    assert differences({"data": {"version": "1.0"}}, {"data": {"version": "1"}}) == [".data.version"]


def test_secret_string_data_is_compared_as_the_data_the_server_stores() -> None:
    desired = {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"token": "s3cr3t"}, "data": {"a": "Yg=="}}
    live = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "Yg==", "token": "czNjcjN0"}}
    assert differences(desired, live) == []
    live["data"]["token"] = "b3RoZXI="
    assert differences(desired, live) == [".data.token"]
    assert comparable(desired)["data"] == {"a": "Yg==", "token": "czNjcjN0"}
