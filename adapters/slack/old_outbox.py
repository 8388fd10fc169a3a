"""Upgrade step: answers an older version left in its own queue move into the outbox, once.

Versions before the one outbox kept rate-limited answers in the store queue OLD_OUTBOX
({"channel", "messages": [{"message": {"text", "blocks"}, "plain"}]}). At start the adapter runs
`move_old_outbox` until that queue is empty; the outbox (bot/outbox.py) then sends each answer once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from adapters.slack import blocks as B
from adapters.slack.client import PLATFORM
from bot import outbox
from bot.core import Coach

log = logging.getLogger("skillcoach.slack")

OLD_OUTBOX = "slack-outbox"
OLD_OUTBOX_POLL = 2.0


async def move_old_outbox(coach: Coach, poll: Callable[[], float]) -> None:
    """Once at start: move the answers an older version left in its own queue (OLD_OUTBOX) into the
    outbox, which sends them once. Each old job becomes the outbox item ``slack-outbox:<key>`` (the
    enqueue is idempotent by id, so a process that dies between the move and the old job's completion
    moves nothing twice); jobs not due yet, or held by another process, are waited for (`poll()`
    seconds between looks)."""
    store, box = coach.store, outbox.service(coach)
    worker = f"slack-old-outbox-{uuid.uuid4().hex[:8]}"
    moved = messages = 0
    while True:
        try:
            now = coach.clock()
            jobs = await store.claim(OLD_OUTBOX, worker, limit=50, lease=outbox.LEASE_SECONDS, now=now)
            for job in jobs:
                count = await _move_old_job(coach, box, job, worker, now)
                if count:
                    moved, messages = moved + 1, messages + count
            if not jobs:
                stats = await store.queue_stats(OLD_OUTBOX, now=now)
                if stats.waiting + stats.leased == 0:
                    break
        except asyncio.CancelledError:
            raise
        except NotImplementedError:   # a store without queue statistics: what was due has been moved
            break
        except Exception as exc:      # the store unreachable for now: try again
            log.warning("could not move the old Slack outbox yet: %s", exc)
        await asyncio.sleep(poll())
    if moved:
        log.info("moved %d answer(s) (%d message(s)) from the old Slack outbox %r into the outbox",
                 moved, messages, OLD_OUTBOX)


async def _move_old_job(coach: Coach, box: Any, job: Any, worker: str, now: float) -> int:
    """One old job into the outbox: the number of its messages moved (0 if it had none, or if another
    process completed it first)."""
    payload = job.payload if isinstance(job.payload, dict) else {}
    channel = payload.get("channel")
    rendered: list[outbox.Prerendered] = []
    for entry in payload.get("messages") if isinstance(payload.get("messages"), list) else []:
        message = entry.get("message") if isinstance(entry, dict) else None
        plain = entry.get("plain") if isinstance(entry, dict) and isinstance(entry.get("plain"), str) else ""
        if isinstance(message, dict) and isinstance(message.get("text"), str) \
                and isinstance(message.get("blocks"), list):
            rendered.append(outbox.Prerendered({"text": message["text"], "blocks": message["blocks"]},
                                               plain or message["text"]))
        elif plain:
            rendered.append(outbox.Prerendered({"text": plain, "blocks": B.text_sections(plain)}, plain))
    if not isinstance(channel, str) or not channel:
        log.warning("old Slack outbox job %s names no channel; dropped", job.key)
        rendered = []
    elif rendered:
        await box.enqueue(f"{OLD_OUTBOX}:{job.key}", PLATFORM, channel, [], due=max(job.due, now),
                          address={"channel": channel}, rendered=rendered)
    done = await coach.store.complete(OLD_OUTBOX, job.key, worker, {"moved": len(rendered)})
    return len(rendered) if done else 0
