"""`GET /metrics` in the Prometheus text format (prometheus-client), off unless SKILLCOACH_METRICS_TOKEN is set.

What is measured, and where:

* turns by platform and outcome, and their latency — in `Coach.handle` (`coach.metrics.turn`);
* platform API calls by platform, method and HTTP status (a 429 shows as status "429") — Slack through an
  aiohttp trace on the Web API client's session (the method is the Web API method, `chat.postMessage`),
  Teams through a response hook on each Bot Framework connector client (the method is the HTTP verb and
  the path with every id replaced by `{id}`);
* store operations by backend and operation, timed where the store is called (its methods are wrapped on
  the store object when metrics are on);
* nudges sent / skipped / failed, counted where their outcome is made durable: when a job of the
  `nudges` queue is completed with its outcome, and when a fan-out records whom it skipped;
* introductions, by the status each introduction record is written with;
* queue depth (waiting, leased) and the age of the oldest job not done, per queue — read from the store
  when /metrics is scraped (`Store.queue_stats`: one query, or one pass over the queue's files).

No label holds personal data: platforms, outcomes, method names, statuses, queue and backend names only.

Each app has its own `CollectorRegistry` (never the process-global one), so several servers in one
process (tests) do not collide. Without the token setting nothing is collected (`NO_METRICS`).
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import time
from typing import Any

from aiohttp import web

from bot.settings import Settings

log = logging.getLogger("skillcoach.metrics")

# queues whose depth /metrics reports (bot/nudges/, bot/outbox.py, bot/intros/)
QUEUES = ("nudge-fanouts", "nudges", "outbox", "intro-expiry")
NUDGE_QUEUE, FANOUTS, INTROS = "nudges", "nudge_fanouts", "intros"
SKIP_REASONS = ("opted_out", "recent", "unreachable")
STORE_OPERATIONS = ("get", "get_many", "put", "delete", "add_once", "enqueue", "claim", "complete", "release",
                    "job", "try_lease", "queue_stats")
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
_SLACK_METHOD = re.compile(r"^[a-zA-Z]+(\.[a-zA-Z]+)*$")
# the words of Bot Framework connector paths; any other path segment is an id
_CONNECTOR_WORDS = {"v3", "conversations", "activities", "members", "pagedmembers", "teams", "attachments",
                    "views", "upload", "history", "activity", "me"}


class NoMetrics:
    """What the coach calls when metrics are off: nothing."""

    enabled = False

    def turn(self, platform: str, outcome: str, seconds: float) -> None:
        pass

    def api_call(self, platform: str, method: str, status: str) -> None:
        pass

    def aiohttp_trace(self, platform: str) -> list[Any]:
        return []


NO_METRICS = NoMetrics()


class Metrics(NoMetrics):
    """The metrics of one server, in its own registry."""

    enabled = True

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.turns = Counter("skillcoach_turns", "Turns (one user action each) by platform and outcome",
                             ["platform", "outcome"], registry=r)
        self.turn_seconds = Histogram("skillcoach_turn_seconds", "Time to answer one turn", ["platform"],
                                      buckets=TURN_BUCKETS, registry=r)
        self.api_calls = Counter("skillcoach_platform_api_calls",
                                 "Calls to the platforms' APIs by method and HTTP status ('error': no response)",
                                 ["platform", "method", "status"], registry=r)
        self.store_seconds = Histogram("skillcoach_store_operation_seconds", "Store operations by backend",
                                       ["backend", "operation"], buckets=STORE_BUCKETS, registry=r)
        self.store_errors = Counter("skillcoach_store_operation_errors", "Store operations that raised",
                                    ["backend", "operation"], registry=r)
        self.nudges = Counter("skillcoach_nudges", "Nudges by outcome (sent, skipped, failed) and skip reason",
                              ["outcome", "reason"], registry=r)
        self.intros = Counter("skillcoach_introductions", "Introduction records written, by status "
                              "(pending: requested; undelivered, accepted, declined, expired)", ["status"], registry=r)
        self.queue_jobs = Gauge("skillcoach_queue_jobs", "Jobs not done, by queue and state (waiting, leased)",
                                ["queue", "state"], registry=r)
        self.queue_age = Gauge("skillcoach_queue_oldest_age_seconds",
                               "Age of the oldest job not done (0: the queue is empty)", ["queue"], registry=r)
        self.scrape_errors = Counter("skillcoach_metrics_scrape_errors", "Queue reads that failed during a scrape",
                                     ["queue"], registry=r)

    # -- what the code reports -------------------------------------------------------------------
    def turn(self, platform: str, outcome: str, seconds: float) -> None:
        self.turns.labels(platform or "unknown", outcome).inc()
        self.turn_seconds.labels(platform or "unknown").observe(seconds)

    def api_call(self, platform: str, method: str, status: str) -> None:
        self.api_calls.labels(platform, method, status).inc()

    def aiohttp_trace(self, platform: str) -> list[Any]:
        """Trace configs for an aiohttp session that calls the Slack Web API."""
        import aiohttp

        trace = aiohttp.TraceConfig()

        async def on_end(session, ctx, params) -> None:
            self.api_call(platform, slack_method(params.url.path), str(params.response.status))

        async def on_error(session, ctx, params) -> None:
            self.api_call(platform, slack_method(params.url.path), "error")

        trace.on_request_end.append(on_end)
        trace.on_request_exception.append(on_error)
        return [trace]

    def store_observed(self, operation: str, args: tuple, kwargs: dict, result: Any) -> None:
        """Business counts read off the store calls that make them durable."""
        if operation == "complete" and args and args[0] == NUDGE_QUEUE:
            outcome = ((args[3] if len(args) > 3 else kwargs.get("result")) or {}).get("outcome")
            if result and outcome == "sent":
                self.nudges.labels("sent", "").inc()
            elif result and outcome == "failed":
                self.nudges.labels("failed", "").inc()
            elif result and outcome in SKIP_REASONS:
                self.nudges.labels("skipped", outcome).inc()
        elif operation == "put" and len(args) >= 3 and isinstance(args[2], dict):
            collection, data = args[0], args[2]
            if collection == INTROS and isinstance(data.get("status"), str):
                self.intros.labels(data["status"]).inc()
            elif collection == FANOUTS and kwargs.get("version") == 0:
                for reason, count in (data.get("skipped") or {}).items():
                    if reason in SKIP_REASONS and count:
                        self.nudges.labels("skipped", reason).inc(count)

    # -- at scrape time ------------------------------------------------------------------------
    async def refresh_queues(self, store, now: float) -> None:
        for queue in QUEUES:
            try:
                stats = await store.queue_stats(queue, now=now)
            except Exception as exc:  # an unreachable store: the other metrics still answer
                self.scrape_errors.labels(queue).inc()
                log.warning("metrics: could not read queue %s: %s", queue, exc)
                continue
            self.queue_jobs.labels(queue, "waiting").set(stats.waiting)
            self.queue_jobs.labels(queue, "leased").set(stats.leased)
            oldest = stats.oldest_enqueued_at
            self.queue_age.labels(queue).set(max(0.0, now - oldest) if oldest else 0.0)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def slack_method(path: str) -> str:
    """`/api/chat.postMessage` -> `chat.postMessage`; anything else -> `other`."""
    name = path.rsplit("/", 1)[-1]
    return name if _SLACK_METHOD.match(name) else "other"


def connector_method(verb: str, path: str) -> str:
    """`POST /v3/conversations/a:1x/activities/9` -> `POST /v3/conversations/{id}/activities/{id}`."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    return f"{verb} /" + "/".join(p if p in _CONNECTOR_WORDS else "{id}" for p in parts)


def backend_name(store: Any) -> str:
    name = type(store).__name__.lower()
    for known in ("tinydb", "postgres", "memory"):
        if known in name:
            return known
    return name.removesuffix("store") or "store"


def instrument_store(store: Any, metrics: Metrics) -> None:
    """Time every store operation on this store object (its methods are wrapped on the instance)."""
    backend = backend_name(store)
    for operation in STORE_OPERATIONS:
        original = getattr(store, operation, None)
        if original is None or getattr(original, "_skillcoach_timed", False):
            continue
        timer = metrics.store_seconds.labels(backend, operation)
        errors = metrics.store_errors.labels(backend, operation)

        def timed(original=original, operation=operation, timer=timer, errors=errors):
            @functools.wraps(original)
            async def call(*args, **kwargs):
                started = time.perf_counter()
                try:
                    result = await original(*args, **kwargs)
                except BaseException:
                    errors.inc()
                    raise
                finally:
                    timer.observe(time.perf_counter() - started)
                metrics.store_observed(operation, args, kwargs, result)
                return result

            call._skillcoach_timed = True  # type: ignore[attr-defined]
            return call

        setattr(store, operation, timed())


def authorized(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def add_route(app, coach, token: str) -> None:
    """GET /metrics, answered only with `Authorization: Bearer <token>`."""

    metrics = coach.metrics

    async def handler(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization", ""), token):
            return web.json_response({"error": "metrics need Authorization: Bearer <SKILLCOACH_METRICS_TOKEN>"},
                                     status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        await metrics.refresh_queues(coach.store, coach.clock())
        from prometheus_client import CONTENT_TYPE_LATEST

        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app.router.add_get("/metrics", handler)


def enable(app: web.Application, coach: Any, settings: Settings) -> bool:  # coach: the core imports this module
    """Turn metrics on for this server when SKILLCOACH_METRICS_TOKEN is set; else /metrics stays 404."""
    token = (settings.metrics_token or "").strip()
    if not token:
        return False
    coach.metrics = Metrics()
    instrument_store(coach.store, coach.metrics)
    add_route(app, coach, token)
    log.info("metrics at GET /metrics (bearer token from SKILLCOACH_METRICS_TOKEN)")
    return True
