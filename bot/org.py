"""The organisation file: people, reporting lines and who offers help (YAML, JSON or CSV)."""

from __future__ import annotations

import logging

from bot.catalog import Catalog
from bot.people import Directory

log = logging.getLogger("skillcoach.org")


def load_directory_for(settings, catalog: Catalog) -> Directory:
    """The directory from SKILLCOACH_ORG, or an empty one when no file is configured."""
    if not settings.org_file:
        log.info("no organisation file (SKILLCOACH_ORG) configured: people directory is empty")
        return Directory()
    raise NotImplementedError("organisation file loading is being built in bot/org.py")
