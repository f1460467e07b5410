"""The Job provider against the local control plane: Jobs complete or fail (kwok), are adopted,
terminated and garbage-collected, and are owned by their AnalysisRun."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.analysis.measure import reconcile_measurements
from rollouts.analysis.providers.job import JOB_NAME_KEY, JOB_NAMESPACE_KEY, RUN_UID_LABEL, JobProvider, build_job
from rollouts.api.analysis import AnalysisRun, Measurement, Metric
from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ANALYSIS_RUNS
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError
from rollouts.kube.resources import JOBS, NAMESPACES
from tests.waiting import eventually

pytestmark = pytest.mark.integration


def job_metric(name: str, *, fail: bool = False) -> Metric:
    pod_labels = {"rollouts.io/job-fail": "true"} if fail else {}
    return Metric.model_validate(
        {
            "name": name,
            "provider": {
                "job": {
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "metadata": {"labels": pod_labels},
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "check", "image": "busybox"}],
                            },
                        },
                    }
                }
            },
        }
    )


async def create_run(kube: KubeClient, namespace: str, *metrics: Metric) -> AnalysisRun:
    body: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        # Labelled for an instance no controller of the test session serves: these tests drive the provider
        # themselves, and a running analysis controller creating the same Jobs would race them.
        "metadata": {
            "name": "job-run",
            "namespace": namespace,
            "labels": {INSTANCE_ID_LABEL: "job-provider-test-only"},
        },
        "spec": {"metrics": [m.to_dict() for m in metrics]},
    }
    created = await kube.create(ANALYSIS_RUNS, namespace, body)
    return AnalysisRun.model_validate(created)


async def finish(provider: JobProvider, run: AnalysisRun, metric: Metric, m: Measurement) -> Measurement:
    async def probe() -> Measurement:
        return await provider.resume(run, metric, m)

    return await eventually(probe, lambda r: r.phase != "Running", timeout=60, what="job measurement to finish")


async def test_job_complete_is_successful_and_failed_is_failed(
    kube_client: KubeClient, namespace: str, crds: None
) -> None:
    ok, bad = job_metric("ok"), job_metric("bad", fail=True)
    run = await create_run(kube_client, namespace, ok, bad)
    provider = JobProvider(kube_client)

    started = await provider.run(run, ok)
    assert started.phase == "Running", started.message
    assert started.resume_at is not None
    name = (started.metadata or {})[JOB_NAME_KEY]
    assert name == f"{run.metadata.uid}.ok.1"
    job = await kube_client.get(JOBS, namespace, name)
    assert job["metadata"]["labels"][RUN_UID_LABEL] == run.metadata.uid
    assert job["metadata"]["ownerReferences"][0]["uid"] == run.metadata.uid

    # a second create of the same measurement (a crash before the status write) adopts the Job
    again = await provider.run(run, ok)
    assert again.phase == "Running" and (again.metadata or {})[JOB_NAME_KEY] == name

    assert (await finish(provider, run, ok, started)).phase == "Successful"

    failing = await provider.run(run, bad)
    assert (await finish(provider, run, bad, failing)).phase == "Failed"


async def test_terminate_and_garbage_collect_delete_jobs(kube_client: KubeClient, namespace: str, crds: None) -> None:
    metric = job_metric("gc")
    run = await create_run(kube_client, namespace, metric)
    provider = JobProvider(kube_client)
    names = []
    for taken in range(3):
        run = run.model_copy(
            update={
                "status": AnalysisRun.model_validate(
                    {"status": {"metricResults": [{"name": "gc", "phase": "Running", "count": taken}]}}
                ).status
            }
        )
        measurement = await provider.run(run, metric)
        names.append((measurement.metadata or {})[JOB_NAME_KEY])
    assert names == [f"{run.metadata.uid}.gc.{n}" for n in (1, 2, 3)]

    await provider.garbage_collect(run, metric, 2)

    async def remaining() -> list[str]:
        listed = await kube_client.list(JOBS, namespace, label_selector=f"{RUN_UID_LABEL}={run.metadata.uid}")
        return sorted(j["metadata"]["name"] for j in listed["items"] if not j["metadata"].get("deletionTimestamp"))

    assert await eventually(remaining, lambda r: r == sorted(names[1:]), what="oldest job gone")

    stopped = await provider.terminate(run, metric, Measurement(phase="Running", metadata={JOB_NAME_KEY: names[2]}))
    assert stopped.phase == "Inconclusive" and stopped.finished_at is not None

    async def gone() -> bool:
        try:
            job = await kube_client.get(JOBS, namespace, names[2])
        except NotFoundError:
            return True
        return bool(job["metadata"].get("deletionTimestamp"))

    assert await eventually(gone, what="terminated job deleted")


@pytest.fixture
async def other_namespace(kube_client: KubeClient) -> AsyncIterator[str]:
    """Another tenant's namespace."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    await kube_client.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        await kube_client.delete(NAMESPACES, None, name)


async def test_job_reference_in_status_never_reaches_another_namespace(
    kube_client: KubeClient, namespace: str, other_namespace: str, crds: None
) -> None:
    # Another tenant's Job, and one in the run's namespace the run does not own.
    victim = build_job(await create_run(kube_client, other_namespace, job_metric("theirs")), job_metric("theirs"))
    await kube_client.create(JOBS, other_namespace, victim)
    stranger = {**victim, "metadata": {"name": "stranger", "namespace": namespace}}
    await kube_client.create(JOBS, namespace, stranger)

    metric = job_metric("mine")
    run = await create_run(kube_client, namespace, metric)
    provider = JobProvider(kube_client)
    into_other = Measurement(
        phase="Running",
        metadata={JOB_NAME_KEY: victim["metadata"]["name"], JOB_NAMESPACE_KEY: other_namespace},
    )
    not_ours = Measurement(phase="Running", metadata={JOB_NAME_KEY: "stranger"})
    for measurement, why in ((into_other, "namespace"), (not_ours, "not owned")):
        stopped = await provider.terminate(run, metric, measurement)
        assert stopped.phase == "Error" and why in (stopped.message or ""), stopped.message
        resumed = await provider.resume(run, metric, measurement)
        assert resumed.phase == "Error" and why in (resumed.message or ""), resumed.message

    # The whole terminate path of a run whose status was edited to point elsewhere.
    run.spec.terminate = True
    run.status = AnalysisRun.model_validate(
        {
            "status": {
                "phase": "Running",
                "metricResults": [{"name": "mine", "phase": "Running", "measurements": [into_other.to_dict()]}],
            }
        }
    ).status
    reconciled = await reconcile_measurements(
        run, now=datetime.now(UTC), provider_for=lambda m: provider, kube=kube_client
    )
    assert reconciled.step.status.metric_results[0].measurements[-1].phase == "Error"  # type: ignore[index]

    await provider.garbage_collect(run, metric, 0)
    theirs = await kube_client.get(JOBS, other_namespace, victim["metadata"]["name"])
    assert not theirs["metadata"].get("deletionTimestamp")
    mine_but_not_owned = await kube_client.get(JOBS, namespace, "stranger")
    assert not mine_but_not_owned["metadata"].get("deletionTimestamp")
