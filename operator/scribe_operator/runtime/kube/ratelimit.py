"""Events rate-limited, so that a retry storm cannot flood the API server with them.

Two token buckets, as client-go's event recorder has (its spam filter, per object): an Event is posted only if its
object's bucket and the operator's shared bucket both have a token; otherwise it is dropped, counted in
``scribe_events_dropped_total{reason}``. Status is the record (every failure and retry is in
``status.attempts``); Events are what ``kubectl describe`` shows of it, and losing some in a storm loses nothing else.

- per object: a burst of :data:`OBJECT_BURST`, then one more every :data:`OBJECT_REFILL_SECONDS` (client-go: 25 and
  one per 5 minutes), so one task retrying for ever posts 25 Events, then one per 5 minutes;
- shared: :data:`SHARED_QPS` per second with a burst of :data:`SHARED_BURST`: far above what tasks running normally
  post (2 per task), but 10,000 tasks failing at once post 500 Events, then 50 a second.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

OBJECT_BURST = 25
OBJECT_REFILL_SECONDS = 300.0
SHARED_QPS = 50.0
SHARED_BURST = 500
MAX_OBJECTS = 20_000  # objects remembered (least recently used forgotten: a forgotten one starts a fresh burst)


@dataclass
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class EventLimiter:
    """``allow(key)``: whether an Event on object ``key`` may be posted now (it takes the tokens if so)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        object_burst: int = OBJECT_BURST,
        object_refill_seconds: float = OBJECT_REFILL_SECONDS,
        shared_qps: float = SHARED_QPS,
        shared_burst: int = SHARED_BURST,
        max_objects: int = MAX_OBJECTS,
    ) -> None:
        self.clock = clock
        self.object_burst, self.object_rate = object_burst, 1.0 / object_refill_seconds
        self.max_objects = max_objects
        self.shared = Bucket(shared_qps, shared_burst, shared_burst, clock())
        self.objects: OrderedDict[object, Bucket] = OrderedDict()

    def allow(self, key: object) -> str | None:
        """None if the Event may be posted, else why not: ``object`` (its object posted too many) or ``shared``."""
        now = self.clock()
        bucket = self.objects.get(key)
        if bucket is None:
            bucket = self.objects[key] = Bucket(self.object_rate, self.object_burst, self.object_burst, now)
            if len(self.objects) > self.max_objects:
                self.objects.popitem(last=False)
        else:
            self.objects.move_to_end(key)
        if not bucket.take(now):
            return "object"
        if not self.shared.take(now):
            bucket.tokens += 1  # not posted: the object keeps its token
            return "shared"
        return None
