"""Where what is derived from a catalog is kept between starts, and how it is written and read.

An imported folder (one with the importer's marker file) keeps it in its own `.index/`; any other catalog
in the user's cache folder, `$XDG_CACHE_HOME/skillcoach` (else `~/.cache/skillcoach`), under names that
start with a hash of the catalog's folders, of which the KEEP most recently written are kept. Everything
is written through a temporary file and renamed, so a reader sees the old file or the new one; a folder
that cannot be written only means the work is done again at the next start. The files are Python
pickles, read only from the administrator's catalog folder or the user's own cache folder.

This module imports nothing of the catalog's: `bot.catalog` uses it while loading.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("skillcoach.catalog")


def user_cache_dir() -> Path | None:
    """$XDG_CACHE_HOME/skillcoach, else ~/.cache/skillcoach; None for a user with no home folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"))
    return base / "skillcoach" if base.is_absolute() else None


def cache_location(folders: list[Path], marker: str, index_dir: str) -> tuple[Path | None, str]:
    """The folder for what is derived from a catalog of these folders, and the prefix of its file names:
    the last imported folder's index folder, else the user's cache folder (named by the folders); None
    when there is neither (nothing is kept then)."""
    for folder in reversed(folders):
        if (folder / marker).is_file():
            return folder / index_dir, ""
    named = hashlib.sha256(repr([str(f) for f in folders]).encode()).hexdigest()[:16]
    return user_cache_dir(), f"{named}-"


def write_atomically(path: Path, value: object) -> None:
    """Pickle `value` to `path` through a temporary file; an unwritable folder leaves it, with a log line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes it private; the server may run as another user
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        log.info("%s not stored (%s)", path, exc)


def read_pickle(path: Path, what: str) -> object | None:
    """What `path` holds; None when there is no such file, or (with a log line) when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)  # noqa: S301 (see the module's docstring)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file raises whatever unpickling meets: build it again
        log.warning("%s %s cannot be read (%s); building it again", what, path, type(exc).__name__)
        return None


def prune(folder: Path, keep: int) -> None:
    """Keep only the `keep` catalogs (name prefixes) written last in the user's cache folder."""
    try:
        newest: dict[str, float] = {}
        for path in folder.glob("*-*.pickle"):
            prefix = path.name.split("-", 1)[0]
            newest[prefix] = max(newest.get(prefix, 0.0), path.stat().st_mtime)
        for prefix in sorted(newest, key=newest.__getitem__, reverse=True)[keep:]:
            for path in folder.glob(f"{prefix}-*.pickle"):
                path.unlink(missing_ok=True)
    except OSError:
        pass


class ParsedFiles:
    """What each catalog file parsed to, kept in an imported folder's index folder and used for a file
    whose size and modification time are unchanged: when some files of a large import changed, the others
    are not parsed again. (When none changed, the whole validated catalog is read instead: bot.catalog.)"""

    def __init__(self, dirs: list[Path], parse: Callable[[Path], object], marker: str, index_dir: str) -> None:
        self.parse = parse
        self.path: Path | None = None
        for base in reversed(dirs):
            if base.is_dir() and (base / marker).is_file():
                self.path = base / index_dir / "files.pickle"
                break
        self.entries: dict[str, tuple[int, int, object]] = {}
        self.changed = False
        if self.path is not None:
            loaded = read_pickle(self.path, "parsed catalog files")
            if isinstance(loaded, dict) and loaded.get("version") == 1 and isinstance(loaded.get("files"), dict):
                self.entries = loaded["files"]

    def raw(self, path: Path, error: Callable[[str], Exception]) -> object:
        if self.path is None:
            return self.parse(path)
        key = str(path.resolve())
        try:
            stat = path.stat()
        except OSError as exc:
            raise error(f"{path}: cannot be read: {exc}") from None
        found = self.entries.get(key)
        if isinstance(found, tuple) and len(found) == 3 and found[:2] == (stat.st_mtime_ns, stat.st_size):
            return found[2]
        raw = self.parse(path)
        self.entries[key] = (stat.st_mtime_ns, stat.st_size, raw)
        self.changed = True
        return raw

    def save(self, seen: set[str]) -> None:
        stale = set(self.entries) - seen
        if self.path is None or not (self.changed or stale):
            return
        for key in stale:
            del self.entries[key]
        write_atomically(self.path, {"version": 1, "files": self.entries})
