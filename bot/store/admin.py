"""`skillcoach db upgrade` and `skillcoach db copy`: schema upgrades and moving an installation.

`copy` reads every record of every collection from the source (collections the source can list, plus
the user collections, plus any given with `--collection`), writes them to the target, copies the work
queue and leases when both sides can list and load them, and then verifies by counting each
collection on both sides. A mismatch exits non-zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.store.base import USER_COLLECTIONS, Store

_BATCH = 1000

Say = Callable[[str], None]  # where the command's report lines go (the CLI prints them)


def open_spec(spec: str) -> Store:
    """A store from a `--from`/`--to` argument: `tinydb:PATH` or `postgresql://…`."""
    if spec.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresStore

        return PostgresStore(spec)
    if spec.startswith("tinydb:") and spec[len("tinydb:"):]:
        from bot.store.tinydb_store import TinyDBStore

        return TinyDBStore(Path(spec[len("tinydb:"):]))
    raise ConfigError(f"unknown store {spec!r}: use tinydb:PATH or postgresql://…")


def describe(spec: str) -> str:
    if spec.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import redact

        return redact(spec)
    return spec


def db_command(settings: Any, args: Any, say: Say) -> int:
    """`skillcoach db …` (the CLI prints what `say` gets); returns the exit code."""
    if args.db_command == "upgrade":
        return asyncio.run(upgrade(settings.database_url, say))
    if args.db_command == "copy":
        extra = list(getattr(args, "collections", None) or [])
        return asyncio.run(copy(args.source, args.target, extra, say))
    raise ConfigError(f"unknown db command {args.db_command!r}")


async def upgrade(url: str, say: Say) -> int:
    from bot.store.migrations import LATEST
    from bot.store.postgres import PostgresStore, redact

    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("skillcoach db upgrade needs DATABASE_URL=postgresql://… (TinyDB has no schema)")
    store = PostgresStore(url)
    await store.open()  # runs the migrations
    try:
        say(f"{redact(url)}: schema version {store.schema_version} (this skillcoach knows {LATEST})")
    finally:
        await store.close()
    return 0


async def _batches(store: Store, collection: str) -> AsyncIterator[list[tuple[str, dict[str, Any]]]]:
    batch: list[tuple[str, dict[str, Any]]] = []
    async for record in store.scan(collection):
        batch.append((record.key, record.data))
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def _write(target: Store, collection: str, batch: list[tuple[str, dict[str, Any]]]) -> None:
    bulk = getattr(target, "import_records", None)
    if bulk is not None:
        await bulk(collection, batch)
        return
    for key, data in batch:
        await target.put(collection, key, data)


async def _count(store: Store, collection: str) -> int:
    counter = getattr(store, "count", None)
    if counter is not None:
        return int(await counter(collection))
    return sum([1 async for _ in store.scan(collection)])


async def copy(source_spec: str, target_spec: str, extra: list[str], say: Say) -> int:
    if source_spec.rstrip("/") == target_spec.rstrip("/"):
        raise ConfigError("--from and --to name the same store")
    source, target = open_spec(source_spec), open_spec(target_spec)
    await source.open()
    try:
        await target.open()
        try:
            return await _copy(source, target, extra, say, describe(source_spec), describe(target_spec))
        finally:
            await target.close()
    finally:
        await source.close()


async def _copy(source: Store, target: Store, extra: list[str], say: Say,
                source_name: str, target_name: str) -> int:
    lister = getattr(source, "collections", None)
    listed = list(await lister()) if lister is not None else []
    collections = sorted(set(listed) | set(USER_COLLECTIONS) | set(extra))
    say(f"copying {source_name} -> {target_name}")
    if lister is None:
        say("  note: the source cannot list its collections; copying "
              f"{', '.join(collections)} (add others with --collection NAME)")

    before = {c: await _count(target, c) for c in collections}
    for collection in collections:
        if before[collection]:
            say(f"  note: the target already holds {before[collection]} records in {collection}; "
                  "they are kept and records with the same keys are replaced")
        async for batch in _batches(source, collection):
            await _write(target, collection, batch)

    ok = True
    say(f"  {'collection':<24} {'source':>9} {'target':>9}")
    for collection in collections:
        n_source, n_target = await _count(source, collection), await _count(target, collection)
        match = n_source == n_target
        ok &= match
        say(f"  {collection:<24} {n_source:>9} {n_target:>9}{'' if match else '  MISMATCH'}")

    ok &= await _copy_jobs(source, target, say)
    ok &= await _copy_leases(source, target, say)
    say("verified: counts match" if ok else "FAILED: counts differ (see MISMATCH above)")
    return 0 if ok else 1


async def _copy_jobs(source: Store, target: Store, say: Say) -> bool:
    dump, load = getattr(source, "dump_jobs", None), getattr(target, "load_job", None)
    if dump is None or load is None:
        side = "source cannot list" if dump is None else "target cannot load"
        say(f"  {'jobs':<24} not copied (the {side} jobs)")
        return True
    copied: list[tuple[str, str]] = []
    async for queue, key, state in dump():
        await load(queue, key, state)
        copied.append((queue, key))
    found = sum([1 for queue, key in copied if await target.job(queue, key) is not None])
    match = found == len(copied)
    say(f"  {'jobs':<24} {len(copied):>9} {found:>9}{'' if match else '  MISMATCH'}")
    return match


async def _copy_leases(source: Store, target: Store, say: Say) -> bool:
    dump, load = getattr(source, "dump_leases", None), getattr(target, "load_lease", None)
    if dump is None or load is None:
        side = "source cannot list" if dump is None else "target cannot load"
        say(f"  {'leases':<24} not copied (the {side} leases)")
        return True
    copied = 0
    async for name, owner, until in dump():
        await load(name, owner, until)
        copied += 1
    say(f"  {'leases':<24} {copied:>9}")
    return True
