"""The pod-template hash matches Argo Rollouts' byte for byte."""

from __future__ import annotations

import pytest

from rollouts.api.podhash import (
    compute_pod_template_hash,
    fnv32a,
    go_json_pod_template,
    safe_encode,
)
from rollouts.api.quantity import QuantityError, canonical_quantity

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
