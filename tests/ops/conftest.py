"""Helpers for the operations tests: scraping /metrics and reading its samples."""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "metrics-test-token-5c1c"


async def scrape(session: aiohttp.ClientSession, base_url: str, token: str | None = METRICS_TOKEN
                 ) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with session.get(base_url.rstrip("/") + "/metrics", headers=headers) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, dict(s.labels), s.value) for family in text_string_to_metric_families(text)
            for s in family.samples]


def value(text: str, name: str, **labels: Any) -> float:
    """The one sample `name` with exactly these labels (0.0 when there is none)."""
    found = [v for n, lab, v in samples(text) if n == name and lab == {k: str(x) for k, x in labels.items()}]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else 0.0


def total(text: str, name: str, **labels: Any) -> float:
    """The sum of the samples `name` whose labels include these."""
    want = {k: str(x) for k, x in labels.items()}
    return sum(v for n, lab, v in samples(text) if n == name and want.items() <= lab.items())
