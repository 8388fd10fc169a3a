"""Storage backends behind one interface (`bot.store.base.Store`)."""

from __future__ import annotations

from bot.store.base import (ADDRESSES, CONVERSATIONS, EMAILS, PROFILES, USER_COLLECTIONS, Job, QueueStats, Record,
                            Store, update)

__all__ = ["ADDRESSES", "CONVERSATIONS", "EMAILS", "PROFILES", "USER_COLLECTIONS", "Job", "QueueStats", "Record", "Store",
           "open_store", "update"]


def open_store(settings) -> Store:
    """The store the settings select: PostgreSQL when DATABASE_URL is set, else TinyDB at SKILLCOACH_DB."""
    url = settings.database_url
    if url.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresStore

        return PostgresStore(url)
    if url.startswith("memory:"):
        from bot.store.memory import MemoryStore

        return MemoryStore()
    from bot.store.tinydb_store import TinyDBStore

    return TinyDBStore(settings.db_path)
