"""Reloading the organisation file when it changes (`watch_org_file`, started with the server): the
file is polled every few seconds; a changed file replaces the directory only if it is valid — otherwise
the server logs why and keeps the previous one."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bot.org.file import file_stamp, read_org_file
from bot.people import Directory

if TYPE_CHECKING:
    from bot.core import Coach

log = logging.getLogger("skillcoach.org")

POLL_SECONDS = 3.0


class OrgWatcher:
    """Reloads the organisation file when it changes; a bad file never replaces the last good one."""

    def __init__(self, coach: Coach, path: str | Path) -> None:
        self.coach = coach
        self.path = Path(path)
        self.stamp = getattr(coach.directory, "stamp", None) if coach.directory.source == str(self.path) else None
        self.missing_logged = False

    def check(self) -> bool | None:
        """Look once: True when a new directory was installed, False when the file changed but is bad,
        None when nothing changed."""
        found = self.read_if_changed()
        return None if found is None else self.install(found)

    def read_if_changed(self) -> Directory | bool | None:
        """Read the file if it changed (blocking IO: run it in a thread): a valid new Directory, False
        when the changed file is not valid (logged), None when nothing changed."""
        stamp = file_stamp(self.path)
        if stamp is None:
            if not self.missing_logged:
                log.error("organisation file %s cannot be read; keeping the current directory (%d people)",
                          self.path, len(self.coach.directory))
                self.missing_logged = True
            return None
        self.missing_logged = False
        if stamp == self.stamp:
            return None
        self.stamp = stamp
        report = read_org_file(self.path, self.coach.catalog)
        if not report.ok:
            log.error(
                "organisation file %s changed but is not valid; keeping the previous directory (%d people). "
                "%d problem(s):\n%s", self.path, len(self.coach.directory), len(report.problems),
                "\n".join(p.format(report.source) for p in report.problems[:50]),
            )
            return False
        for warning in report.warnings:
            log.warning("%s", warning.format(report.source))
        directory = report.directory()
        directory.stamp = stamp
        return directory

    def install(self, found: Directory | bool) -> bool:
        if found is False or not isinstance(found, Directory):
            return False
        self.coach.set_directory(found)
        log.info("organisation file %s reloaded: %d people", self.path, len(found))
        return True


async def watch_org_file(coach: Coach, *, interval: float | None = None) -> None:
    """Background task: poll SKILLCOACH_ORG every few seconds and reload it when it changed (the file is
    read in a thread; the new directory is installed on the event loop)."""
    path = coach.settings.org_file
    if not path:
        return
    watcher = OrgWatcher(coach, path)
    interval = interval or float(getattr(coach.settings, "org_poll_seconds", POLL_SECONDS))
    while True:
        try:
            found = await asyncio.to_thread(watcher.read_if_changed)
            if found is not None:
                watcher.install(found)
        except Exception:  # never let a reload bug stop the watcher; the old directory stays
            log.exception("organisation file reload failed; keeping the current directory")
        await asyncio.sleep(interval)
