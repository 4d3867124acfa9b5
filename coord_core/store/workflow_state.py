"""Live state of a running analysis workflow in Redis (1 h TTL): which node is running or done,
so an operator can watch a long analysis without reading task logs."""

from __future__ import annotations

import json
import time
from typing import Any

from coord_core.store import redis_keys
from coord_core.store.redis_resilience import BestEffortRedis

WORKFLOW_STATE_TTL_SECONDS = 3600


class WorkflowStateRecorder:
    def __init__(self, redis: BestEffortRedis, thread_id: str, ttl_seconds: int = WORKFLOW_STATE_TTL_SECONDS):
        self.redis = redis
        self.key = redis_keys.workflow_state(thread_id)
        self.ttl_seconds = ttl_seconds

    def record(self, node: str, status: str, **details: Any) -> None:
        value = json.dumps({"status": status, "at": time.time(), **details}, sort_keys=True, default=str)

        def write(r: Any) -> None:
            pipe = r.pipeline()
            pipe.hset(self.key, node, value)
            pipe.expire(self.key, self.ttl_seconds)
            pipe.execute()

        self.redis.call(f"record workflow node {node}", write, None)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        raw: dict[Any, Any] = self.redis.call("read workflow state", lambda r: r.hgetall(self.key), {})
        return {
            (k.decode() if isinstance(k, bytes) else str(k)): json.loads(v) for k, v in sorted(raw.items())
        }
