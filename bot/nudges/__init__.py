"""Team nudges: a manager (someone with reports in the organisation file, or an admin in
SKILLCOACH_ADMINS) asks the coach, with `/nudge-team` (Slack) or `nudge team` (Teams), to remind their
reports to make or refresh a growth plan. The package: `command` (the command and the buttons),
`fanout` (a command becomes durable jobs), `worker` (the sending side, progress and summary),
`schedule` (recurring nudges), `service` (the coach's nudge service and its background tasks),
`privacy` (the opt-out, `my data`, `forget me`), `replies` and `state` (what is said, what is kept).
Only what the composition uses is exported here: `register` (bot/server.py), the background tasks and
the queue bot/background.py drains at shutdown, and `configure` to set the platforms' rates."""

from __future__ import annotations

from bot.core import Coach
from bot.nudges.command import nudge_action, nudge_team_command
from bot.nudges.privacy import export, on_change
from bot.nudges.service import configure, schedule_task, service, worker_task
from bot.nudges.state import NUDGE_QUEUE

__all__ = ["NUDGE_QUEUE", "configure", "register", "schedule_task", "service", "worker_task"]


def register(coach: Coach) -> None:
    """Install `/nudge-team` / `nudge team` and the nudge buttons on a coach (once; calling again is harmless)."""
    if coach.command_handlers.get("nudge-team") is nudge_team_command:
        return
    service(coach)
    coach.command_handlers["nudge-team"] = nudge_team_command
    coach.action_handlers["nudge"] = nudge_action

    async def listener(user_key: str, what: str) -> None:
        await on_change(coach, user_key, what)

    coach.on_change(listener)
    coach.exporters.append(export)
