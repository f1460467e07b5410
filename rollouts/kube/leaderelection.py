"""Leader election with a coordination.k8s.io/v1 Lease, with client-go's rules.

Two controller replicas can run for availability; only the holder of the Lease
reconciles. As in client-go's leaderelection:
- a candidate judges a lease by when *it* last saw the lease record change
  (its own monotonic clock), never by comparing the renewTime written by
  another machine with its own clock, so clock skew cannot make two leaders;
- the holder renews every retry period; each attempt is bounded, and if no
  renewal succeeds within the renew deadline it stops leading (it never
  assumes it still leads while it cannot prove it);
- every write carries the Lease's resourceVersion, so two candidates can never
  both win the same round (the loser gets a 409);
- writes are fenced: a renewal that *started* at t proves the Lease ours
  until t + renew deadline on our monotonic clock (another candidate cannot
  take over before it has seen our record unchanged for a whole lease
  duration, which is longer). `check_leading` refuses a write past that
  instant, so a replica whose event loop stalled through its renewals stops
  writing by itself, before anyone else can lead, even before its election
  loop runs again; a client made with `KubeClient.fenced(check_leading)`
  calls it before every write;
- on shutdown the holder releases the Lease (empty holderIdentity,
  leaseDurationSeconds 1) so a successor takes over at once instead of
  waiting out the lease.
Defaults are client-go's: 15 s lease, 10 s renew deadline, 2 s retry period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ConflictError, KubeError, NotFoundError, NotLeaderError
from rollouts.kube.resources import LEASES

log = logging.getLogger(__name__)

Callback = Callable[[], None]


def _micro(moment: datetime) -> str:
    """MicroTime as the API server writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(lease: dict[str, Any]) -> tuple[Any, ...]:
    spec = lease.get("spec") or {}
    return tuple(
        spec.get(field)
        for field in ("holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions")
    )


class LeaderElector:
    """Acquire and keep one Lease; `run()` returns when leadership is lost."""

    def __init__(
        self,
        client: KubeClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_started_leading: Callback | None = None,
        on_stopped_leading: Callback | None = None,
        on_new_leader: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` is a monotonic clock in seconds (injected by tests)."""
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > retry_period > 0")
        if not identity:
            raise ValueError("leader election needs a non-empty identity")
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.on_new_leader = on_new_leader
        self.is_leader = asyncio.Event()
        self.lost = asyncio.Event()
        self.observed_leader = ""
        self._observed_record: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self.clock = clock
        self._fence_until = 0.0  # on `clock`: writes are allowed before this instant

    # ----------------------------------------------------------------- rounds

    def _spec(self, now: datetime, *, transitions: int, acquire: str) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            # The API field is whole seconds; a sub-second test value still means "at least 1".
            "leaseDurationSeconds": max(1, round(self.lease_duration)),
            "acquireTime": acquire,
            "renewTime": _micro(now),
            "leaseTransitions": transitions,
        }

    def _observe(self, lease: dict[str, Any]) -> None:
        record = _record(lease)
        if record != self._observed_record:
            self._observed_record = record
            self._observed_at = self.clock()
        holder = str((lease.get("spec") or {}).get("holderIdentity") or "")
        if holder != self.observed_leader:
            self.observed_leader = holder
            if holder and self.on_new_leader is not None:
                self._call(self.on_new_leader, holder)

    def leading(self) -> bool:
        """True while a successful round proves we hold the Lease (see the module docstring: the fence)."""
        return self.clock() < self._fence_until

    def check_leading(self) -> None:
        """Raise NotLeaderError unless `leading()`: the write fence for the controllers' client."""
        if not self.leading():
            raise NotLeaderError(
                f"not writing: this replica cannot prove it still holds lease {self.namespace}/{self.name}"
            )

    async def try_acquire_or_renew(self) -> bool:
        """One round: True if we hold the Lease afterwards (and the fence then reaches start + renew deadline)."""
        started = self.clock()
        if await self._acquire_or_renew():
            self._fence_until = max(self._fence_until, started + self.renew_deadline)
            return True
        return False

    async def _acquire_or_renew(self) -> bool:
        now = datetime.now(UTC)
        try:
            lease = await self.client.get(LEASES, self.namespace, self.name)
        except NotFoundError:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, transitions=0, acquire=_micro(now)),
            }
            try:
                created = await self.client.create(LEASES, self.namespace, body)
            except ConflictError:
                return False  # another candidate created it first
            self._observe(created)
            return True
        self._observe(lease)
        spec: dict[str, Any] = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        held_by_other = holder and holder != self.identity
        if held_by_other and self.clock() < self._observed_at + duration:
            return False
        transitions = int(spec.get("leaseTransitions") or 0)
        acquire = spec.get("acquireTime") or _micro(now)
        if holder != self.identity:
            transitions += 1
            acquire = _micro(now)
        lease["spec"] = {**spec, **self._spec(now, transitions=transitions, acquire=acquire)}
        try:
            updated = await self.client.replace(LEASES, self.namespace, self.name, lease)
        except ConflictError:
            return False
        self._observe(updated)
        return True

    async def _bounded_round(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                return await self.try_acquire_or_renew()
        except TimeoutError:
            log.warning("leader election: lease %s/%s did not answer in %.1fs", self.namespace, self.name, timeout)
        except KubeError as error:
            log.warning("leader election: %s", error)
        return False

    # ------------------------------------------------------------------- loop

    async def run(self) -> None:
        """Wait to acquire, then renew; returns (with `lost` set) when a renewal misses the deadline."""
        while True:
            if await self._bounded_round(self.renew_deadline):
                break
            await asyncio.sleep(self.retry_period)
        log.info("became leader of lease %s/%s as %s", self.namespace, self.name, self.identity)
        self.is_leader.set()
        if self.on_started_leading is not None:
            self._call(self.on_started_leading)
        while True:
            await asyncio.sleep(self.retry_period)
            remaining = self._fence_until - self.clock()
            if remaining > 0 and await self._bounded_round(remaining):
                continue
            if self.observed_leader not in ("", self.identity) or not self.leading():
                log.error("lost leadership of lease %s/%s", self.namespace, self.name)
                self._step_down()
                self.lost.set()
                return

    def _step_down(self) -> None:
        self._fence_until = 0.0
        if not self.is_leader.is_set():
            return
        self.is_leader.clear()
        if self.on_stopped_leading is not None:
            self._call(self.on_stopped_leading)

    async def release(self) -> None:
        """Hand the Lease back (if we still hold it) so a successor need not wait it out."""
        if not self.is_leader.is_set():
            return
        try:
            async with asyncio.timeout(self.renew_deadline):
                lease = await self.client.get(LEASES, self.namespace, self.name)
                spec = lease.get("spec") or {}
                if spec.get("holderIdentity") == self.identity:
                    now = _micro(datetime.now(UTC))
                    lease["spec"] = {
                        **spec,
                        "holderIdentity": "",
                        "leaseDurationSeconds": 1,
                        "acquireTime": now,
                        "renewTime": now,
                    }
                    await self.client.replace(LEASES, self.namespace, self.name, lease)
                    log.info("released lease %s/%s", self.namespace, self.name)
        except (KubeError, TimeoutError) as error:
            log.warning("could not release lease %s/%s: %s", self.namespace, self.name, error)
        self._step_down()

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # a callback bug must not break the election
            log.exception("leader election callback failed")
