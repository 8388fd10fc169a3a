"""Pacing of proactive messages and lookups per platform: the documented rates and an even token bucket
(one slot every 1/rate s), shared by the outbox and the nudge worker (bot/outbox.py)."""

from __future__ import annotations

import asyncio
import time

# messages/second: Slack's chat.postMessage allows about one a second per channel within a workspace-wide
# limit of several hundred a minute; Bot Framework allows a few per second per conversation.
DEFAULT_RATES = {"slack": 4.0, "teams": 10.0}
# email lookups/second: Slack's users.lookupByEmail is Tier 3 (50+ a minute); Teams reads the roster.
LOOKUP_RATES = {"slack": 0.8, "teams": 5.0}


class TokenBucket:
    """Paces sends to `rate` per second, evenly (one slot every 1/rate s, no burst): slots are planned
    from the previous slot, not from when the sleep woke up, so timer overshoot does not add up.
    `penalize` honours a platform's Retry-After and lowers the rate by 10%; `succeeded` recovers 1%."""

    HEADROOM = 0.98   # pace 2% under the documented limit: timer jitter never crosses it

    def __init__(self, rate: float) -> None:
        self.configured = max(0.01, float(rate)) * self.HEADROOM
        self.rate = self.configured
        self.next_slot = 0.0
        self.blocked_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                slot = max(self.next_slot, self.blocked_until, now)
                if slot > now:
                    await asyncio.sleep(slot - now)
                    if self.blocked_until > slot:   # a Retry-After arrived while waiting
                        continue
                self.next_slot = slot + 1.0 / self.rate
                return

    def penalize(self, retry_after: float) -> None:
        now = time.monotonic()
        self.blocked_until = max(self.blocked_until, now + max(0.0, retry_after))
        self.next_slot = max(self.next_slot, self.blocked_until)
        self.rate = max(self.configured * 0.25, self.rate * 0.9)

    def succeeded(self) -> None:
        if self.rate < self.configured:
            self.rate = min(self.configured, self.rate * 1.01)
