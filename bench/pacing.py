"""Pacing benchmark: the outbox's TokenBucket (bot/pacing.py) against aiolimiter's AsyncLimiter.

    python bench/pacing.py [--rate 20] [--sends 200] [--senders 8]

`aiolimiter` is a reference here, not a dependency of skillcoach (`pip install aiolimiter`). Both pace
`--senders` tasks sharing one limiter to `--rate` sends a second, `--sends` sends in all, in the same run:
the time the sends take, the most sends in any one-second window (a platform that allows `rate` a second
counts windows like this one), and the 99th percentile of the gaps between sends. Then a Retry-After of
2 s arrives after a quarter of the sends: the TokenBucket holds every sender back for it and slows down by
10 %; AsyncLimiter has no such call, so the run shows how many sends it lets through inside the 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.pacing import TokenBucket  # noqa: E402


async def run(acquire, sends: int, senders: int, retry_after=None) -> tuple[list[float], float | None]:
    times: list[float] = []
    blocked: list[float] = []
    left = [sends]

    async def sender() -> None:
        while left[0] > 0:
            left[0] -= 1
            await acquire()
            times.append(time.monotonic())
            if retry_after is not None and len(times) == sends // 4:
                blocked.append(time.monotonic())
                retry_after(2.0)

    await asyncio.gather(*(sender() for _ in range(senders)))
    return sorted(times), (blocked[0] if blocked else None)


def figures(times: list[float], blocked_at: float | None) -> str:
    span = times[-1] - times[0]
    worst = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    p99 = gaps[int(len(gaps) * 0.99)] * 1000
    text = f"{span:6.2f} s for {len(times)} sends, most in 1 s: {worst:3d}, gap p50 {statistics.median(gaps) * 1000:6.1f} ms p99 {p99:6.1f} ms"
    if blocked_at is not None:
        inside = sum(1 for t in times if blocked_at < t < blocked_at + 2.0)
        text += f", sends inside the 2 s Retry-After: {inside}"
    return text


async def main(args) -> None:
    try:
        from aiolimiter import AsyncLimiter
    except ImportError:
        AsyncLimiter = None
        print("aiolimiter is not installed (pip install aiolimiter): only the TokenBucket is measured")
    rate = args.rate
    bucket = TokenBucket(rate)
    times, _ = await run(bucket.acquire, args.sends, args.senders)
    print(f"TokenBucket({rate:g}/s)          {figures(times, None)}")
    if AsyncLimiter is not None:
        limiter = AsyncLimiter(rate, 1.0)
        times, _ = await run(limiter.acquire, args.sends, args.senders)
        print(f"AsyncLimiter({rate:g}, 1 s)       {figures(times, None)}")
    bucket = TokenBucket(rate)
    times, at = await run(bucket.acquire, args.sends, args.senders, retry_after=bucket.penalize)
    print(f"TokenBucket, Retry-After 2 s    {figures(times, at)}")
    if AsyncLimiter is not None:
        limiter = AsyncLimiter(rate, 1.0)
        times, at = await run(limiter.acquire, args.sends, args.senders, retry_after=lambda s: None)
        print(f"AsyncLimiter, Retry-After 2 s   {figures(times, at)} (nothing to tell it)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--sends", type=int, default=200)
    p.add_argument("--senders", type=int, default=8)
    asyncio.run(main(p.parse_args()))
