"""Pick the provider for a metric; kinds Argo knows but we do not implement are a clear error."""

from __future__ import annotations

from rollouts.analysis.providers.base import Clock, MetricProvider, ProviderError, utc_now
from rollouts.analysis.providers.prometheus import PrometheusProvider
from rollouts.analysis.providers.web import WebProvider
from rollouts.api.analysis import Metric
from rollouts.kube.client import KubeClient


def new_provider(
    metric: Metric,
    *,
    kube: KubeClient | None = None,
    prometheus_address: str | None = None,
    clock: Clock = utc_now,
) -> MetricProvider:
    """The provider measuring `metric` (raises ProviderError: the measurement is an Error)."""
    kinds = metric.provider.kinds()
    if len(kinds) != 1:
        raise ProviderError("no provider specified" if not kinds else "multiple providers specified")
    kind = kinds[0]
    if kind == "prometheus":
        return PrometheusProvider(default_address=prometheus_address, clock=clock)
    if kind == "web":
        return WebProvider(clock=clock)
    if kind == "job":
        if kube is None:
            raise ProviderError("job provider needs a Kubernetes client")
        from rollouts.analysis.providers.job import JobProvider

        return JobProvider(kube, clock=clock)
    raise ProviderError(f"metric provider {kind} is not supported")
