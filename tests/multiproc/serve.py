"""`skillcoach serve` for the multi-process tests: the real CLI (`bot.cli.main`), with two timings
shortened from the environment so the tests do not wait minutes:

* SKILLCOACH_TEST_NUDGE_LEASE — seconds a claimed nudge job stays leased (bot.nudges.worker.LEASE_SECONDS,
  120 s in production): how soon a live process takes over the jobs of one that died.
* SKILLCOACH_TEST_SCHEDULE_POLL — seconds between schedule ticks (bot.nudges.schedule.SCHEDULE_POLL, 30 s).

It also installs the managers' features (`/nudge-team`, `/team-skills`, introductions) on the coach
when the server has not done so itself: at the time of writing `bot.server.build_coach` does not call
`bot.nudges.register`, `bot.report.register` and `bot.intros.register`, so a plain `skillcoach serve`
answers `/nudge-team` with "I don't know the command" (reported to the lead).

    python -m tests.multiproc.serve serve --host 127.0.0.1 --port 8080
"""

from __future__ import annotations

import functools
import os
import sys


def apply_test_timings() -> None:
    import bot.background as background
    import bot.nudges as nudges
    import bot.nudges.worker as nudge_worker

    lease = os.environ.get("SKILLCOACH_TEST_NUDGE_LEASE")
    if lease:
        nudge_worker.LEASE_SECONDS = float(lease)
    poll = os.environ.get("SKILLCOACH_TEST_SCHEDULE_POLL")
    if poll:
        background.TASKS[:] = [functools.partial(nudges.schedule_task, interval=float(poll))
                               if task is nudges.schedule_task else task for task in background.TASKS]


def install_manager_features() -> None:
    import bot.server as server
    from bot import intros, nudges, report

    build_coach = server.build_coach

    @functools.wraps(build_coach)
    def build_with_features(*args, **kwargs):
        coach = build_coach(*args, **kwargs)
        if "nudge-team" not in coach.command_handlers:
            nudges.register(coach)
        if "team-skills" not in coach.command_handlers:
            report.register(coach)
        if "intro" not in coach.action_handlers:
            intros.register(coach)
        return coach

    server.build_coach = build_with_features


if __name__ == "__main__":
    apply_test_timings()
    install_manager_features()
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))
