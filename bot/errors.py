"""One family of errors for everything skillcoach raises on purpose."""

import asyncio


class SkillcoachError(Exception):
    """Base of all skillcoach errors."""


class ConfigError(SkillcoachError):
    """Settings or data files are wrong; the message says which and why."""


class CatalogError(ConfigError):
    """A catalog file is broken: the message names the file, the entry and the problem."""


class OrgFileError(ConfigError):
    """The organisation file is broken: the message lists every problem with its row."""


class StoreError(SkillcoachError):
    """The store failed."""


class ConflictError(StoreError):
    """A versioned write lost a race: re-read and try again."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now; the user is asked to try again in a moment."""


def stray_cancel() -> bool:
    """In an `except asyncio.CancelledError`: True when nothing asked the current task to stop (the
    cancel came from a library or a bug below it), so a long-running background loop should carry on."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() == 0
