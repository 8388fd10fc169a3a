"""Logging set-up: text (default) or one JSON object per line (SKILLCOACH_LOG_FORMAT=json).

Every record carries the platform and the request id of the HTTP request it belongs to (context
variables set by `request_context`, the server's first middleware; background tasks started while a
request is handled inherit them). What employees write is never logged at INFO or above: log calls name
users by their platform key, never by what they said.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("skillcoach_request_id", default="")
PLATFORM: contextvars.ContextVar[str] = contextvars.ContextVar("skillcoach_platform", default="")

# an incoming X-Request-Id is kept when it looks like an id (a proxy's or load balancer's), else replaced
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# the platform each route serves
ROUTE_PLATFORMS = {"/slack/events": "slack", "/api/messages": "teams"}


class ContextFilter(logging.Filter):
    """Adds `request_id` and `platform` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        if not hasattr(record, "platform"):
            record.platform = PLATFORM.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, platform, request_id;
    `exception` holds the formatted traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "platform": getattr(record, "platform", "") or None,
            "request_id": getattr(record, "request_id", "") or None,
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            out["exception"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str, fmt: str = "text", stream: Any = None) -> None:
    """Configure the root logger once for the process (`skillcoach serve`, `chat`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # bm25s sets its own logger to DEBUG ("Building index ..."): an operator sees it only when asking for DEBUG
    logging.getLogger("bm25s").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)


def access_logger_class():
    """aiohttp's access log line, with the request's id and platform (it is written after the request's
    own context has ended) and the path without its query string."""
    from aiohttp.abc import AbstractAccessLogger

    class AccessLogger(AbstractAccessLogger):
        def log(self, request, response, time: float) -> None:
            self.logger.info(
                '%s "%s %s" %s %.3fs', request.remote, request.method, request.path, response.status, time,
                extra={"request_id": response.headers.get("X-Request-Id", ""),
                       "platform": ROUTE_PLATFORMS.get(request.path, "")})

    return AccessLogger


def new_request_id(incoming: str | None) -> str:
    if incoming and _REQUEST_ID_RE.match(incoming):
        return incoming
    return uuid.uuid4().hex[:16]


def request_context():
    """The aiohttp middleware that sets the request id (echoed as X-Request-Id) and the platform."""
    from aiohttp import web

    @web.middleware
    async def middleware(request: web.Request, handler):
        rid = new_request_id(request.headers.get("X-Request-Id"))
        tokens = (REQUEST_ID.set(rid), PLATFORM.set(ROUTE_PLATFORMS.get(request.path, "")))
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers["X-Request-Id"] = rid
            raise
        finally:
            REQUEST_ID.reset(tokens[0])
            PLATFORM.reset(tokens[1])
        if not response.prepared:
            response.headers["X-Request-Id"] = rid
        return response

    return middleware
