"""The pod-template hash matches Argo Rollouts' byte for byte."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rollouts.api.common import InvalidValueError
from rollouts.api.podhash import (
    TemplateTypeError,
    compute_pod_template_hash,
    fnv32a,
    go_json_pod_template,
    pod_template_equal_ignore_hash,
    safe_encode,
)
from rollouts.api.quantity import QuantityError, canonical_quantity, go_quantity_string

ARGO_E2E_TEMPLATE = {
    "metadata": {"labels": {"app": "canary-scaledowndelay"}},
    "spec": {
        "containers": [
            {
                "name": "canary-scaledowndelay",
                "image": "nginx:1.19-alpine",
                "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                "resources": {"requests": {"memory": "16Mi", "cpu": "5m"}},
            }
        ]
    },
}


def test_known_vector_from_argo_e2e_suite() -> None:
    assert compute_pod_template_hash(ARGO_E2E_TEMPLATE) == "674d8cf959"


def test_go_field_order_and_omitempty() -> None:
    encoded = go_json_pod_template(ARGO_E2E_TEMPLATE).decode()
    # Go struct order (cpu/memory are map keys: sorted), empty fields omitted,
    # creationTimestamp omitted (omitzero), resources kept as a struct.
    assert encoded == (
        '{"metadata":{"labels":{"app":"canary-scaledowndelay"}},"spec":{"containers":'
        '[{"name":"canary-scaledowndelay","image":"nginx:1.19-alpine","ports":[{"name":"http",'
        '"containerPort":80,"protocol":"TCP"}],"resources":{"requests":{"cpu":"5m","memory":"16Mi"}}}]}}'
    )


def test_key_order_of_the_input_does_not_matter() -> None:
    reordered = {
        "spec": {
            "containers": [
                {
                    "resources": {"requests": {"cpu": "5m", "memory": "16Mi"}},
                    "ports": [{"protocol": "TCP", "containerPort": 80, "name": "http"}],
                    "image": "nginx:1.19-alpine",
                    "name": "canary-scaledowndelay",
                }
            ]
        },
        "metadata": {"labels": {"app": "canary-scaledowndelay"}},
    }
    assert compute_pod_template_hash(reordered) == "674d8cf959"


def test_quantities_hash_in_canonical_form() -> None:
    written = {"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}}}]}}
    canonical = {"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}}]}}
    assert compute_pod_template_hash(written) == compute_pod_template_hash(canonical)


def test_collision_count_changes_the_hash() -> None:
    base = compute_pod_template_hash(ARGO_E2E_TEMPLATE)
    assert compute_pod_template_hash(ARGO_E2E_TEMPLATE, 0) != base
    assert compute_pod_template_hash(ARGO_E2E_TEMPLATE, 1) != compute_pod_template_hash(ARGO_E2E_TEMPLATE, 0)


def test_html_characters_escaped_like_go() -> None:
    template = {"metadata": {"annotations": {"a": "<b>&"}}, "spec": {"containers": []}}
    assert '"\\u003cb\\u003e\\u0026"' in go_json_pod_template(template).decode()


def test_fnv32a_reference_values() -> None:
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32a(b"foobar") == 0xBF9CF968


def test_safe_encode_uses_the_vowel_free_alphabet() -> None:
    encoded = safe_encode("0123456789")
    assert len(encoded) == 10
    assert set(encoded) <= set("bcdfghjklmnpqrstvwxz2456789")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("0.5", "500m"),
        ("1000m", "1"),
        ("1024Mi", "1Gi"),
        ("1536Mi", "1536Mi"),
        ("0.5Gi", "512Mi"),
        ("512", "512"),
        ("100m", "100m"),
        ("1500", "1500"),
        ("1000", "1k"),
        ("5m", "5m"),
        ("0", "0"),
        ("128974848", "128974848"),
        ("129e6", "129e6"),
        ("123Mi", "123Mi"),
        ("1.5", "1500m"),
        ("2G", "2G"),
        ("0.1m", "100u"),
    ],
)
def test_canonical_quantity(written: str, canonical: str) -> None:
    assert canonical_quantity(written) == canonical


def test_bad_quantity() -> None:
    with pytest.raises(QuantityError):
        canonical_quantity("12xyz")


ARGO_E2E_DYNAMIC_STABLE_SCALE = {
    "metadata": {"labels": {"app": "dynamic-stable-scale"}},
    "spec": {
        "readinessGates": [{"conditionType": "argoproj.io/e2e-readiness"}],
        "containers": [
            {
                "name": "dynamic-stable-scale",
                "image": "nginx:1.19-alpine",
                "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                "resources": {"requests": {"memory": "16Mi", "cpu": "5m"}},
            }
        ],
    },
}


def test_second_vector_from_argo_e2e_suite() -> None:
    assert compute_pod_template_hash(ARGO_E2E_DYNAMIC_STABLE_SCALE) == "6b56c8cdb4"


def test_absent_fields_are_written_as_go_zero_values() -> None:
    # Go unmarshals into structs: an absent non-omitempty field is written as its
    # zero value ("" / 0 / false / null / {}), and an absent spec is still written.
    encoded = go_json_pod_template(
        {"metadata": {"ownerReferences": [{"kind": "X"}]}, "spec": {"containers": [{"ports": [{}]}]}}
    ).decode()
    assert '"ownerReferences":[{"apiVersion":"","kind":"X","name":"","uid":""}]' in encoded
    assert '"containers":[{"name":"","ports":[{"containerPort":0}],"resources":{}}]' in encoded
    assert (
        go_json_pod_template({"metadata": {"name": "a"}}).decode()
        == '{"metadata":{"name":"a"},"spec":{"containers":null}}'
    )


def test_unknown_fields_are_ignored_like_go_unmarshal() -> None:
    with_extra = copy.deepcopy(ARGO_E2E_TEMPLATE)
    with_extra["spec"]["containers"][0]["futureField"] = 1
    with_extra["spec"]["futureSpecField"] = {"a": 1}
    assert compute_pod_template_hash(with_extra) == "674d8cf959"


VECTORS = json.loads((Path(__file__).with_name("podhash_vectors.json")).read_text())


@pytest.mark.parametrize("vector", VECTORS, ids=[f"vector{i}" for i in range(len(VECTORS))])
def test_vectors_computed_by_go(vector: dict[str, Any]) -> None:
    # Generated by hack/gen-podhash-vectors.sh with the real k8s.io/api types.
    assert go_json_pod_template(vector["template"]).decode() == vector["json"]
    assert compute_pod_template_hash(vector["template"], vector.get("collisionCount")) == vector["hash"]


def test_template_equality_ignores_the_hash_label_and_service_account() -> None:
    live = copy.deepcopy(ARGO_E2E_TEMPLATE)
    live["metadata"]["labels"]["rollouts-pod-template-hash"] = "5d8f7c6b9"
    live["spec"]["serviceAccount"] = "legacy"
    live["spec"]["containers"][0]["resources"]["requests"]["memory"] = "16384Ki"  # same quantity
    live["spec"]["volumes"] = []  # nil and empty are equal
    assert pod_template_equal_ignore_hash(live, ARGO_E2E_TEMPLATE)
    changed = copy.deepcopy(live)
    changed["spec"]["containers"][0]["image"] = "nginx:1.20-alpine"
    assert not pod_template_equal_ignore_hash(changed, ARGO_E2E_TEMPLATE)
    relabelled = copy.deepcopy(live)
    relabelled["metadata"]["labels"]["app"] = "other"
    assert not pod_template_equal_ignore_hash(relabelled, ARGO_E2E_TEMPLATE)


def test_template_equality_with_only_the_hash_label() -> None:
    live = {"metadata": {"labels": {"rollouts-pod-template-hash": "abc"}}, "spec": {"containers": [{"name": "a"}]}}
    assert pod_template_equal_ignore_hash(live, {"spec": {"containers": [{"name": "a"}]}})


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ({"spec": {"containers": [{"name": 5}]}}, "spec.template.spec.containers[0].name"),
        ({"spec": {"containers": {"name": "a"}}}, "spec.template.spec.containers"),
        ({"spec": {"hostNetwork": "yes"}}, "spec.template.spec.hostNetwork"),
        ({"spec": {"terminationGracePeriodSeconds": True}}, "spec.template.spec.terminationGracePeriodSeconds"),
        ({"metadata": {"labels": {"a": 1}}}, "spec.template.metadata.labels.a"),
        ({"spec": {"overhead": {"cpu": "1 core"}}}, "spec.template.spec.overhead.cpu"),
        ("not a template", "spec.template"),
    ],
)
def test_wrong_types_raise_an_error_naming_the_field(template: Any, path: str) -> None:
    with pytest.raises(TemplateTypeError) as caught:
        compute_pod_template_hash(template)
    assert str(caught.value).startswith(f"{path}: ")
    assert isinstance(caught.value, InvalidValueError)


@pytest.mark.parametrize(
    ("written", "marshalled"),
    [
        ("5m", "5m"),  # already canonical: Go keeps the string
        ("1500m", "1500m"),
        ("1.5", "1500m"),
        ("0.5", "500m"),
        ("1000m", "1"),  # trailing "000": re-printed
        ("1024Mi", "1Gi"),
        ("5.", "5."),  # Go's fast path keeps these spellings as written
        ("+1", "+1"),
        ("1E3", "1E3"),
        ("1.234567e6", "1.234567e6"),
        ("007", "007"),
        ("3000E", "3"),  # past the "E" suffix Go drops the exponent
        ("8Ei", "9223372036854775807"),  # binary values are capped at int64
        (" 16Mi ", "16Mi"),
    ],
)
def test_quantities_marshal_as_go_does(written: str, marshalled: str) -> None:
    assert go_quantity_string(written) == marshalled


@pytest.mark.parametrize(
    ("written", "marshalled"),
    [
        ("2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z"),
        ("2024-05-06T07:08:09+02:00", "2024-05-06T05:08:09Z"),  # Go writes UTC
        ("2024-05-06T07:08:09.123456Z", "2024-05-06T07:08:09Z"),  # to the second
        ("2024-05-06T23:30:00-05:30", "2024-05-07T05:00:00Z"),
    ],
)
def test_times_marshal_as_metav1_time(written: str, marshalled: str) -> None:
    encoded = go_json_pod_template({"metadata": {"deletionTimestamp": written}}).decode()
    assert f'"deletionTimestamp":"{marshalled}"' in encoded


def test_bad_time_names_the_field() -> None:
    with pytest.raises(TemplateTypeError, match=r"^spec.template.metadata.deletionTimestamp: not an RFC 3339"):
        go_json_pod_template({"metadata": {"deletionTimestamp": "yesterday"}})
