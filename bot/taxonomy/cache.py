"""Matching indexes kept between starts, so start-up does not rebuild them.

Building the title and description indexes of a full O*NET import (about 1,000 roles and 60,000 titles)
takes seconds; loading them takes a fraction of that. The importer writes them into `.index/` of the
folder it writes; any other catalog keeps them in the user's cache folder (bot/taxonomy/filecache.py).
`RoleMatcher` and `SkillMatcher` take them when the fingerprint of the loaded catalog's roles and skills
is the one they were built for, and otherwise build afresh (and store the result again). A stored index
that cannot be read (truncated, foreign) is rebuilt the same way, with one log line.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from bot.catalog import IMPORT_MARKER as MARKER
from bot.catalog import INDEX_DIR, Catalog
from bot.taxonomy.filecache import cache_location, read_pickle, write_atomically

log = logging.getLogger("skillcoach.catalog")

VERSION = 1


def fingerprint(catalog: Catalog) -> str:
    """What the indexes are built from: every role's and skill's words."""
    digest = hashlib.sha256(f"v{VERSION}".encode())
    # repr, not pickle: pickle's bytes depend on which equal strings happen to be one object
    digest.update(repr([(r.id, r.title, r.alt_titles, r.description, r.skills) for r in catalog.roles.values()]).encode())
    digest.update(repr([(s.id, s.name, s.aliases, s.description) for s in catalog.skills.values()]).encode())
    return digest.hexdigest()


def cache_path(catalog: Catalog, name: str) -> Path | None:
    """Where this catalog's index `name` is kept; None for a catalog made in code (no folders)."""
    if not catalog.folders:
        return None
    folder, prefix = cache_location(catalog.folders, MARKER, INDEX_DIR)
    return folder / f"{prefix}{name}.pickle" if folder is not None else None


def load(catalog: Catalog, name: str, fp: str) -> dict[str, Any] | None:
    path = cache_path(catalog, name)
    if path is None:
        return None
    stored = read_pickle(path, "matching index")
    if stored is None:
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("state"), dict):
        log.warning("matching index %s holds no index; building it again", path)
        return None
    if stored.get("fingerprint") != fp:
        log.info("matching index %s is for another version of the catalog; building it", path)
        return None
    return stored["state"]


def store(catalog: Catalog, name: str, fp: str, state: dict[str, Any]) -> None:
    path = cache_path(catalog, name)
    if path is not None:
        write_atomically(path, {"fingerprint": fp, "state": state})
