"""Classifying what went wrong when the adapter talked to the Bot Framework connector."""

from __future__ import annotations

import aiohttp
import requests


def unreachable(error: BaseException) -> bool:
    """Whether an error means the serviceUrl could not be reached at all (refused, unknown host, timeout)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (requests.ConnectionError, requests.Timeout, aiohttp.ClientConnectionError,
                                ConnectionError, TimeoutError)):
            return True
        inner = getattr(current, "inner_exception", None)  # msrest's ClientRequestError keeps the cause here
        current = inner if isinstance(inner, BaseException) else (current.__cause__ or current.__context__)
    return False
