"""Matching indexes kept beside an imported catalog, so start-up does not rebuild them.

Building the title and description indexes of a full O*NET import (about 1,000 roles and 60,000 titles)
takes seconds; loading them takes a fraction of that. The importer writes them into `.index/` of the
folder it writes; at start-up `RoleMatcher` and `SkillMatcher` take them when the fingerprint of the
loaded catalog's roles and skills is the one they were built for, and otherwise build afresh (and store
the result there again when the folder is writable). The files are Python pickles: they are read only
from a catalog folder, which an administrator controls as much as the code itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from bot.catalog import IMPORT_MARKER as MARKER
from bot.catalog import INDEX_DIR, Catalog

log = logging.getLogger("skillcoach.catalog")

VERSION = 1


def fingerprint(catalog: Catalog) -> str:
    """What the indexes are built from: every role's and skill's words."""
    digest = hashlib.sha256(f"v{VERSION}".encode())
    # repr, not pickle: pickle's bytes depend on which equal strings happen to be one object
    digest.update(repr([(r.id, r.title, r.alt_titles, r.description, r.skills) for r in catalog.roles.values()]).encode())
    digest.update(repr([(s.id, s.name, s.aliases, s.description) for s in catalog.skills.values()]).encode())
    return digest.hexdigest()


def cache_folder(catalog: Catalog) -> Path | None:
    """The last imported folder the catalog was loaded from (the shipped catalog alone builds fast)."""
    for folder in reversed(catalog.folders):
        if (folder / MARKER).is_file():
            return folder / INDEX_DIR
    return None


def load(catalog: Catalog, name: str, fp: str) -> dict[str, Any] | None:
    folder = cache_folder(catalog)
    if folder is None:
        return None
    path = folder / f"{name}.pickle"
    try:
        with path.open("rb") as handle:
            stored = pickle.load(handle)  # noqa: S301 (written by the importer into the admin's catalog folder)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
        log.warning("matching index %s not used (%s); building it", path, exc)
        return None
    if not isinstance(stored, dict) or stored.get("fingerprint") != fp:
        log.info("matching index %s is for another version of the catalog; building it", path)
        return None
    return stored["state"]


def store(catalog: Catalog, name: str, fp: str, state: dict[str, Any]) -> None:
    folder = cache_folder(catalog)
    if folder is None:
        return
    try:
        folder.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump({"fingerprint": fp, "state": state}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, folder / f"{name}.pickle")
    except OSError as exc:
        log.info("matching index not stored in %s (%s)", folder, exc)

