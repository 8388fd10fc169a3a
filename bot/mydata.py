"""`my data`: a short summary in the conversation, the whole export as a JSON file beside it.

The core builds one `Reply` (summary text, `attachment` = the export, `attachment_name` = the file's
name); each adapter sends the file its platform's way — Slack uploads it (files.getUploadURLExternal +
files.completeUploadExternal), Teams asks to send it (a file consent card, then the upload Teams offers),
the terminal chat writes it to a file and prints the path.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot import messages as M
from bot.types import Reply

PREFIX = "skillcoach-my-data"


def filename(now: float) -> str:
    """skillcoach-my-data-YYYY-MM-DD.json (the export's UTC date)."""
    return f"{PREFIX}-{time.strftime('%Y-%m-%d', time.gmtime(now))}.json"


def as_json(export: dict[str, Any]) -> str:
    """The file's content: the whole export, readable (indented, keys sorted, any script kept as is)."""
    return json.dumps(export, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n"


def _plan_line(plan: dict[str, Any]) -> str:
    skills = plan.get("skills") or []
    done = sum(1 for s in skills if s.get("done"))
    if plan.get("path") == "reskill":
        what = M.DATA_PLAN_RESKILL.format(target=(plan.get("target") or {}).get("title", "?"))
    else:
        what = M.DATA_PLAN_UPSKILL.format(title=(plan.get("current") or {}).get("title", "?"))
    return M.DATA_PLAN.format(what=what, total=len(skills), done=done)


def summary(export: dict[str, Any], name: str) -> str:
    """A few lines on what the file holds (never its whole content)."""
    profile = export.get("profiles") or {}
    lines = [M.MY_DATA.format(name=name)]
    if profile:
        role = (profile.get("role") or {}).get("title") if isinstance(profile.get("role"), dict) else None
        if role:
            lines.append(M.DATA_ROLE.format(role=role))
        plan = profile.get("plan")
        lines.append(_plan_line(plan) if plan else M.DATA_NO_PLAN)
        lines.append(M.DATA_SHARING_ON if profile.get("consent_share") else M.DATA_SHARING_OFF)
        lines.append(M.DATA_REMINDERS_OFF if profile.get("reminders") is False else M.DATA_REMINDERS_ON)
    else:
        lines.append(M.DATA_NO_PROFILE)
    intros = export.get("introductions") or []
    if intros:
        lines.append(M.DATA_INTROS.format(n=len(intros)))
    lines.append(M.DATA_FORGET)
    return "\n".join(lines)


def reply(export: dict[str, Any], now: float) -> Reply:
    """The `my data` reply: the summary, with the export attached under its file name."""
    name = filename(now)
    return Reply(summary(export, name), attachment=export, attachment_name=name)
