"""`skillcoach serve`: start the app, and stop it gracefully on SIGTERM (or SIGINT, Ctrl-C).

Starting: the port opens as soon as the app is built, so `/healthz` answers at once; the matching
indexes (read from their cache, or built) are loaded in a worker thread after that, and `/readyz`
answers 503 `{"catalog": "matching indexes loading"}` until they are in memory. A question that arrives
sooner waits for them.

Stopping takes at most SKILLCOACH_STOP_TIMEOUT seconds (default 10), in this order:

1. the server is marked stopping: `/readyz` answers 503 and every new request but `/healthz` gets 503
   with Retry-After (bot/health.py), while requests already being handled run on;
2. background work stops (bot/background.py, given 80 % of the time): nothing new is claimed, nudges
   in flight finish for up to 70 % of that, what is still held is given back to the queue for the next
   process;
3. the listening socket closes, requests in flight finish, then the app's cleanup closes the platform
   clients (Slack's Web API session, Socket Mode) and the store.

The exit status is 0 when all of that finished in time; 1 when the time ran out (whatever was still
running is cancelled; a nudge job not given back is taken over when its lease ends).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.matching import warm

if TYPE_CHECKING:
    from bot.catalog import Catalog
    from bot.health import ServerState

log = logging.getLogger("skillcoach.server")
LOADING = "matching indexes loading"


def serve(app: web.Application, *, host: str, port: int, stop_timeout: float, access_log: Any = None) -> int:
    """Run the server until SIGTERM or SIGINT; the process's exit status."""
    return asyncio.run(_serve(app, host=host, port=port, stop_timeout=stop_timeout, access_log=access_log))


async def _serve(app: web.Application, *, host: str, port: int, stop_timeout: float, access_log: Any) -> int:
    from bot.background import stop_background
    from bot.health import state_of
    from bot.server import COACH

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        if received:  # a second signal: stop waiting for anything
            log.warning("%s again: stopping now", sig.name)
            for task in asyncio.all_tasks(loop):
                if task is not current:
                    task.cancel()
            return
        received.append(sig.name)
        stop.set()

    current = asyncio.current_task()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)

    kwargs: dict[str, Any] = {"handle_signals": False, "shutdown_timeout": stop_timeout}
    if access_log is not None:
        from bot.logs import access_logger_class

        kwargs["access_log"] = access_log
        kwargs["access_log_class"] = access_logger_class()
    runner = web.AppRunner(app, **kwargs)
    state_of(app).loading = LOADING  # not ready before the indexes are in (set before the port opens)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:  # the port is taken, the address is not this machine's, …
            from bot.errors import SkillcoachError

            raise SkillcoachError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        log.info("listening on http://%s:%d", host, port)
        warming = asyncio.create_task(_warm(state_of(app), app[COACH].catalog))
        await stop.wait()
        warming.cancel()  # the thread itself runs to its end; only the wait for it stops
    except BaseException:
        await runner.cleanup()
        raise

    started = time.monotonic()
    log.info("%s: stopping (at most %g s): no new work is taken", received[0], stop_timeout)
    state_of(app).stopping = True
    clean = True
    report = {"released": 0}
    try:
        report = await stop_background(app, app[COACH], stop_timeout * 0.8)
        left = max(0.5, stop_timeout - (time.monotonic() - started))
        await asyncio.wait_for(runner.cleanup(), timeout=left)
    except asyncio.TimeoutError:
        clean = False
        log.error("stopping took longer than SKILLCOACH_STOP_TIMEOUT=%g s: the rest was cancelled", stop_timeout)
    except asyncio.CancelledError:  # a second signal
        clean = False
    if clean:
        log.info("stopped in %.1f s (%d nudge job(s) given back)", time.monotonic() - started, report["released"])
    return 0 if clean else 1


def warm_and_settle(catalog: Catalog) -> None:
    """Load the matching indexes, then set what the process has loaded aside from the garbage collector.

    The catalog, its indexes and the imported modules are hundreds of thousands of objects that live as
    long as the process; left among the collector's objects, each full collection walks them all (about
    90 ms in `python bench/slack_turn.py`, a stall of every conversation). Frozen after one collection
    (`gc.freeze`), later collections look only at what the conversations create.
    """
    warm(catalog)
    gc.collect()
    gc.freeze()


async def _warm(state: ServerState, catalog: Catalog) -> None:
    """Load the matching indexes in a worker thread while the server already answers."""
    started = time.monotonic()
    try:
        await asyncio.get_running_loop().run_in_executor(None, warm_and_settle, catalog)
    except Exception as exc:  # a bug or an unreadable index: not ready, and the log says why
        log.error("matching indexes could not be loaded: %s: %s", type(exc).__name__, exc)
        state.loading = f"matching indexes could not be loaded ({type(exc).__name__})"
        return
    state.loading = None
    log.info("matching indexes ready in %.2f s", time.monotonic() - started)
