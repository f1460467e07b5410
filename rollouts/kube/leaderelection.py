"""Leader election with a coordination.k8s.io/v1 Lease, like client-go's leaderelection.

Two controller replicas can run for availability; only the holder of the Lease
reconciles. The holder renews every retry period and steps down if it cannot
renew within the renew deadline; a candidate takes a Lease whose renewTime is
older than the lease duration. Writes carry the Lease's resourceVersion, so two
candidates can never both win the same round. On shutdown the holder releases
the Lease (holderIdentity cleared) so a successor need not wait out the lease.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rollouts.kube.client import LEASES, ConflictError, KubeClient, KubeError, NotFoundError

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _micro(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


@dataclass
class LeaderElector:
    client: KubeClient
    namespace: str
    name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        self.is_leader = asyncio.Event()
        self.lost = asyncio.Event()

    async def _try_acquire_or_renew(self) -> bool:
        now = _now()
        try:
            lease = await self.client.get(LEASES, self.namespace, self.name)
        except NotFoundError:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, transitions=0, acquire=now),
            }
            try:
                await self.client.create(LEASES, self.namespace, body)
            except ConflictError:
                return False
            return True
        spec: dict[str, Any] = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and renewed is not None and (now - renewed).total_seconds() < duration:
            return False
        transitions = int(spec.get("leaseTransitions") or 0)
        acquire = _parse(spec.get("acquireTime")) or now
        if holder != self.identity:
            transitions += 1
            acquire = now
        lease["spec"] = self._spec(now, transitions=transitions, acquire=acquire)
        try:
            await self.client.replace(LEASES, self.namespace, self.name, lease)
        except ConflictError:
            return False
        return True

    def _spec(self, now: datetime, *, transitions: int, acquire: datetime) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "acquireTime": _micro(acquire),
            "renewTime": _micro(now),
            "leaseTransitions": transitions,
        }

    async def run(self) -> None:
        """Acquire, then renew until renewal fails past the deadline (sets `lost`) or cancelled."""
        while not self.is_leader.is_set():
            try:
                if await self._try_acquire_or_renew():
                    log.info("became leader (%s/%s as %s)", self.namespace, self.name, self.identity)
                    self.is_leader.set()
                    break
            except KubeError as error:
                log.warning("leader election: %s", error)
            await asyncio.sleep(self.retry_period)
        last_renew = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.retry_period)
            try:
                if await self._try_acquire_or_renew():
                    last_renew = asyncio.get_running_loop().time()
                    continue
            except KubeError as error:
                log.warning("leader election renew: %s", error)
            if asyncio.get_running_loop().time() - last_renew > self.renew_deadline:
                log.error("lost leadership of %s/%s", self.namespace, self.name)
                self.is_leader.clear()
                self.lost.set()
                return

    async def release(self) -> None:
        if not self.is_leader.is_set():
            return
        try:
            lease = await self.client.get(LEASES, self.namespace, self.name)
            if (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = ""
                lease["spec"]["leaseDurationSeconds"] = 1
                await self.client.replace(LEASES, self.namespace, self.name, lease)
        except KubeError as error:
            log.warning("could not release lease: %s", error)
        self.is_leader.clear()
