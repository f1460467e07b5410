"""Secret arguments: read from the cluster for one reconcile, used by providers, redacted in status."""

from __future__ import annotations

import base64
import socket
from datetime import UTC, datetime

import pytest

from rollouts.analysis.measure import reconcile_measurements
from rollouts.analysis.providers.registry import new_provider
from rollouts.api.analysis import AnalysisRun
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import SECRETS

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_secret_argument_is_used_and_redacted(kube_client: KubeClient, namespace: str) -> None:
    token = "s3cr3t-token-value"
    await kube_client.create(
        SECRETS,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "api", "namespace": namespace},
            "data": {"token": base64.b64encode(token.encode()).decode()},
        },
    )
    # Nothing listens on the port: the error message names the URL, which holds the secret.
    url = f"http://127.0.0.1:{free_port()}/check?token={{{{args.token}}}}"
    run = AnalysisRun.model_validate(
        {
            "metadata": {"name": "r", "namespace": namespace},
            "spec": {
                "args": [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}],
                "metrics": [{"name": "web", "provider": {"web": {"url": url}}}],
            },
        }
    )
    now = datetime.now(UTC)
    reconciled = await reconcile_measurements(run, now=now, provider_for=new_provider, kube=kube_client)
    measurement = reconciled.step.status.metric_results[0].measurements[0]  # type: ignore[index]
    assert measurement.phase == "Error"
    assert measurement.message is not None
    assert token not in measurement.message
    assert "token=*****" in measurement.message

    run.spec.args[0].value_from.secret_key_ref.key = "missing"  # type: ignore[index,union-attr]
    reconciled = await reconcile_measurements(run, now=now, provider_for=new_provider, kube=kube_client)
    assert reconciled.step.status.phase == "Error"
    assert reconciled.step.status.message == (
        "Unable to resolve metric arguments: key 'missing' does not exist in secret 'api'"
    )
