"""The Job provider's objects: Argo's names, labels, annotations and owner; provider choice."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.analysis.providers.base import ProviderError
from rollouts.analysis.providers.job import RUN_UID_LABEL, build_job, job_name
from rollouts.analysis.providers.prometheus import PrometheusProvider
from rollouts.analysis.providers.registry import new_provider
from rollouts.analysis.providers.web import WebProvider
from rollouts.api.analysis import AnalysisRun, Metric

UID = "6f1c5d0e-8a3b-4c2d-9e1f-0a1b2c3d4e5f"


def run(results: list[dict[str, Any]] | None = None) -> AnalysisRun:
    return AnalysisRun.model_validate(
        {
            "metadata": {"name": "web-abc-2", "namespace": "shop", "uid": UID},
            "status": {"metricResults": results or []},
        }
    )


def job_metric(name: str = "smoke") -> Metric:
    return Metric.model_validate(
        {
            "name": name,
            "provider": {
                "job": {
                    "metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "metadata": {"labels": {"app": "smoke"}},
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "t", "image": "busybox"}],
                            },
                        },
                    },
                }
            },
        }
    )


def test_job_name_counts_measurements_and_errors() -> None:
    assert job_name(run(), job_metric()) == f"{UID}.smoke.1"
    taken = run([{"name": "smoke", "phase": "Running", "count": 2, "error": 1}])
    assert job_name(taken, job_metric()) == f"{UID}.smoke.4"


def test_job_name_is_cut_to_63_characters() -> None:
    name = job_name(run(), job_metric("a-very-long-metric-name-that-goes-on"))
    assert len(name) == 63
    assert name.startswith(f"{UID}.a-very-long")
    assert name.endswith(".1")


def test_build_job() -> None:
    metric = job_metric()
    job = build_job(run(), metric)
    meta = job["metadata"]
    assert meta["namespace"] == "shop"
    assert meta["labels"] == {"team": "a", RUN_UID_LABEL: UID}
    assert meta["annotations"] == {
        "note": "x",
        "analysisrun.argoproj.io/name": "web-abc-2",
        "analysisrun.argoproj.io/namespace": "shop",
        "analysisrun.argoproj.io/metric-name": "smoke",
    }
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisRun",
            "name": "web-abc-2",
            "uid": UID,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert job["spec"]["template"]["metadata"]["labels"] == {"app": "smoke", RUN_UID_LABEL: UID}
    assert job["spec"]["backoffLimit"] == 0
    # the metric itself is not modified
    assert metric.provider.job is not None
    assert RUN_UID_LABEL not in metric.provider.job.spec["template"]["metadata"]["labels"]


def test_provider_registry() -> None:
    web = Metric.model_validate({"name": "w", "provider": {"web": {"url": "http://x"}}})
    prom = Metric.model_validate({"name": "p", "provider": {"prometheus": {"query": "up"}}})
    datadog = Metric.model_validate({"name": "d", "provider": {"datadog": {"query": "x"}}})
    assert isinstance(new_provider(web), WebProvider)
    provider = new_provider(prom, prometheus_address="http://127.0.0.1:9090")
    assert isinstance(provider, PrometheusProvider)
    assert provider.default_address == "http://127.0.0.1:9090"
    with pytest.raises(ProviderError, match="metric provider datadog is not supported"):
        new_provider(datadog)
    with pytest.raises(ProviderError, match="needs a Kubernetes client"):
        new_provider(job_metric())
    with pytest.raises(ProviderError, match="no provider specified"):
        new_provider(Metric(name="none"))
