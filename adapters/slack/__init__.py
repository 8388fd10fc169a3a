"""Slack adapter (slack-bolt)."""

import logging

log = logging.getLogger("skillcoach.slack")


def mount(app, coach, settings) -> bool:
    log.info("Slack not mounted: the Slack adapter is not built yet")
    return False
