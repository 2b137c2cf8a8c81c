"""Leader election on a coordination.k8s.io Lease, as client-go does it: one replica reconciles, the others wait.

A standby takes over once the leader's lease has not been renewed for ``lease_seconds`` (measured on the
standby's own clock from when it last saw the record change, so clock skew between nodes does not matter). A
leader that cannot renew within ``renew_deadline_seconds`` stops (the process exits and is restarted as a
standby) rather than risk two active reconcilers. A leader that shuts down cleanly releases the lease, so its
successor starts at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease

log = logging.getLogger("scribe_operator.runtime.leader")


class LeadershipLost(Exception):
    pass


@dataclass(frozen=True)
class ElectionConfig:
    namespace: str
    name: str
    identity: str
    lease_seconds: float = 10.0
    renew_deadline_seconds: float = 7.0
    retry_seconds: float = 1.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LeaderElector:
    def __init__(self, client: AsyncClient, config: ElectionConfig) -> None:
        self.client, self.config = client, config
        self._seen: tuple[str | None, str | None] | None = None  # (holder, renewTime) last observed
        self._seen_at = 0.0  # loop time when that record was first observed

    def _spec(self, acquired: dt.datetime | None, transitions: int) -> LeaseSpec:
        now = _now()
        return LeaseSpec(
            holderIdentity=self.config.identity,
            leaseDurationSeconds=int(self.config.lease_seconds),
            acquireTime=acquired or now,
            renewTime=now,
            leaseTransitions=transitions,
        )

    async def _try_acquire_or_renew(self) -> bool:
        loop = asyncio.get_running_loop()
        cfg = self.config
        try:
            lease = await self.client.get(Lease, cfg.name, namespace=cfg.namespace)
        except ApiError as exc:
            if exc.status.code != 404:
                raise
            meta = ObjectMeta(name=cfg.name, namespace=cfg.namespace)
            try:
                await self.client.create(Lease(metadata=meta, spec=self._spec(None, 0)))
            except ApiError as create_exc:
                if create_exc.status.code == 409:
                    return False
                raise
            return True
        spec = lease.spec or LeaseSpec()
        record = (spec.holderIdentity, str(spec.renewTime))
        if record != self._seen:
            self._seen, self._seen_at = record, loop.time()
        mine = spec.holderIdentity == cfg.identity
        duration = spec.leaseDurationSeconds or cfg.lease_seconds
        expired = not spec.holderIdentity or loop.time() - self._seen_at >= duration
        if not mine and not expired:
            return False
        transitions = (spec.leaseTransitions or 0) + (0 if mine else 1)
        lease.spec = self._spec(spec.acquireTime if mine else None, transitions)
        try:
            await self.client.replace(lease)  # carries resourceVersion: a racing candidate gets 409
        except ApiError as exc:
            if exc.status.code == 409:
                return False
            raise
        return True

    async def acquire(self) -> None:
        """Block until this replica holds the lease."""
        log.info("waiting to become leader", extra={"lease": f"{self.config.namespace}/{self.config.name}"})
        while True:
            try:
                if await self._try_acquire_or_renew():
                    log.info("became leader", extra={"identity": self.config.identity})
                    return
            except ApiError as exc:
                log.warning("leader election: %s", exc.status.message)
            await asyncio.sleep(self.config.retry_seconds)

    async def keep(self) -> None:
        """Renew the lease until cancelled; raise LeadershipLost if it cannot be renewed in time."""
        loop = asyncio.get_running_loop()
        last_renewal = loop.time()
        while True:
            await asyncio.sleep(self.config.retry_seconds)
            try:
                if await self._try_acquire_or_renew():
                    last_renewal = loop.time()
                    continue
            except ApiError as exc:
                log.warning("lease renewal failed: %s", exc.status.message)
            if loop.time() - last_renewal > self.config.renew_deadline_seconds:
                raise LeadershipLost(f"could not renew lease {self.config.namespace}/{self.config.name} in time")

    async def release(self) -> None:
        """Give the lease up (clean shutdown) so a standby takes over at once."""
        try:
            lease = await self.client.get(Lease, self.config.name, namespace=self.config.namespace)
            if lease.spec is not None and lease.spec.holderIdentity == self.config.identity:
                lease.spec.holderIdentity = None
                lease.spec.leaseDurationSeconds = 1
                await self.client.replace(lease)
        except ApiError as exc:
            log.warning("could not release the lease: %s", exc.status.message)
