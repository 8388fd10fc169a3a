"""What a home screen (Slack App Home) shows about one user, read in one round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.context import Dialog
from bot.people import Directory
from bot.person import LINKS, read_profile
from bot.plans import plan_card
from bot.store import CONVERSATIONS, PROFILES, Store


@dataclass(frozen=True)
class HomeSummary:
    """What a home screen (Slack App Home) shows about one user."""

    has_profile: bool
    in_interview: bool
    plan_title: str | None
    path: str | None
    progress_done: int
    progress_total: int
    reminders: bool
    sharing: bool
    plan_card: Any = None


async def home_summary(store: Store, dialog: Dialog, directory: Directory, user_key: str) -> HomeSummary:
    profile_rec, link_rec, convo_rec = await store.get_many(
        [(PROFILES, user_key), (LINKS, user_key), (CONVERSATIONS, user_key)])
    if link_rec is not None:  # this identity's profile is the person's, kept under another identity
        profile_rec = await read_profile(store, user_key)
    profile = profile_rec.data if profile_rec else {}
    convo = convo_rec.data if convo_rec else {}
    plan = profile.get("plan")
    skills = (plan or {}).get("skills", [])
    card = plan_card(plan, directory) if plan else None
    return HomeSummary(
        has_profile=bool(profile),
        in_interview=dialog.in_progress(convo),
        plan_title=card.title if card else None,
        path=(plan or {}).get("path"),
        progress_done=sum(1 for s in skills if s.get("done")),
        progress_total=len(skills),
        reminders=profile.get("reminders", True),
        sharing=bool(profile.get("consent_share", False)),
        plan_card=card,
    )
