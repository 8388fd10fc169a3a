"""Microsoft Teams adapter (botbuilder)."""

import logging

log = logging.getLogger("skillcoach.teams")


def mount(app, coach, settings) -> bool:
    log.info("Teams not mounted: the Teams adapter is not built yet")
    return False
