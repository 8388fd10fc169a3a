"""The PostgreSQL schema, as ordered migrations.

Each migration runs once, in order, in one transaction together with the row that records it in
`schema_migrations`. Add new steps at the end; never edit a step that has shipped.

Times (`expires_at`, `due`, `lease_until`, `until`) are seconds since the epoch as double precision,
the same clock the `Store` interface speaks (`now=` arguments). Keys use the "C" collation so that
`scan()` orders them by code point, as every backend does, and prefix scans can use the primary key.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "records, dedupe, jobs, leases",
        """
        CREATE TABLE records (
            collection text COLLATE "C" NOT NULL,
            key        text COLLATE "C" NOT NULL,
            data       jsonb NOT NULL,
            version    bigint NOT NULL,
            PRIMARY KEY (collection, key)
        );

        CREATE TABLE dedupe (
            namespace  text COLLATE "C" NOT NULL,
            key        text COLLATE "C" NOT NULL,
            expires_at double precision NOT NULL,
            PRIMARY KEY (namespace, key)
        );
        CREATE INDEX dedupe_expires_at ON dedupe (expires_at);

        CREATE TABLE jobs (
            queue       text COLLATE "C" NOT NULL,
            key         text COLLATE "C" NOT NULL,
            payload     jsonb NOT NULL,
            done        boolean NOT NULL DEFAULT false,
            result      jsonb,
            attempts    integer NOT NULL DEFAULT 0,
            due         double precision NOT NULL DEFAULT 0,
            owner       text,
            lease_until double precision NOT NULL DEFAULT 0,
            PRIMARY KEY (queue, key)
        );
        CREATE INDEX jobs_pending ON jobs (queue, due, key) WHERE NOT done;

        CREATE TABLE leases (
            name  text COLLATE "C" PRIMARY KEY,
            owner text NOT NULL,
            until double precision NOT NULL
        );
        """,
    ),
    (
        2,
        "jobs: when each was enqueued",
        """
        ALTER TABLE jobs ADD COLUMN enqueued_at double precision NOT NULL DEFAULT 0;
        """,
    ),
)

LATEST = MIGRATIONS[-1][0]

# One number for pg_advisory_xact_lock: several processes starting at once migrate one after another.
ADVISORY_LOCK_ID = 0x5C1C0AC4  # "skillcoach migrations"

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def migrate(conn) -> int:
    """Bring the schema on `conn` (an asyncpg connection) up to date; return its version.

    Safe to run from several processes at once: an advisory lock held for the transaction makes the
    others wait, and they then find nothing left to do.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_ID)
        await conn.execute(CREATE_MIGRATIONS_TABLE)
        applied = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, sql in MIGRATIONS:
            if version in applied:
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
            )
        current = await conn.fetchval("SELECT max(version) FROM schema_migrations")
    if current is not None and current > LATEST:
        log.warning("the database schema is at version %s, newer than this skillcoach knows (%s): "
                    "upgrade skillcoach", current, LATEST)
    return int(current or 0)
