"""Spec values a tenant could use against the controller are bounded: the refresh interval floor."""

from __future__ import annotations

import pytest

from rollouts.api.gitsync import DEFAULT_REFRESH_SECONDS, MIN_REFRESH_SECONDS, GitSyncSpec


@pytest.mark.parametrize(
    ("interval", "seconds"),
    [("1ms", MIN_REFRESH_SECONDS), ("2s", MIN_REFRESH_SECONDS), ("10s", 10.0), ("5m", 300.0), (None, 180.0)],
)
def test_the_refresh_interval_never_goes_below_the_floor(interval: str | None, seconds: float) -> None:
    spec = GitSyncSpec.model_validate({"source": {"repoURL": "https://git.example/app"}, "refreshInterval": interval})
    assert spec.refresh_seconds() == seconds
    assert DEFAULT_REFRESH_SECONDS == 180.0 and MIN_REFRESH_SECONDS == 10.0
