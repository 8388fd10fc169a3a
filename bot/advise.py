"""`skillcoach advise`: the recommender without the chat, for admins checking the catalog."""

from __future__ import annotations

import json
import sys
from typing import Any

from bot.catalog import load_catalog
from bot.errors import SkillcoachError
from bot.matching import is_confident
from bot.org.file import load_directory_for
from bot.plans import plan_card
from bot.recommend import Plan, Recommender, RoleRef, is_senior
from bot.types import card_text, plain_text


def advise(recommender: Recommender, role_text: str, skills_text: str = "", goal: str = "grow",
           target_text: str = "", hours: float = 4.0, directory=None,
           family: str = "") -> tuple[Plan, dict[str, Any]]:
    if not role_text.strip():
        raise SkillcoachError("--role must not be empty")
    families = recommender.catalog.families
    if family and family not in families:
        raise SkillcoachError(f"--family {family!r} is not a family of the catalog; one of: {', '.join(sorted(families))}")
    role_matches = recommender.roles.match(role_text)
    placed = bool(role_matches) and (is_confident(role_matches) or role_matches[0].score >= 75)
    current = (
        recommender.role_ref(role_matches[0].role) if placed else recommender.custom_role(role_text, family or None)
    )
    notes = []
    if not placed:
        notes.append(
            f"the role {current.title!r} could not be placed in the catalog; "
            + (f"using the field chosen with --family ({recommender.catalog.family_name(family)})" if family
               else "no field is chosen for it — pass --family ID to choose one (see the families in the catalog)")
        )
    have, unknown = recommender.skills.match_list(skills_text)
    target_matches = recommender.roles.match(target_text) if target_text.strip() else []
    target: RoleRef | None = None
    if target_text.strip():
        target = (
            recommender.role_ref(target_matches[0].role)
            if target_matches and target_matches[0].score >= 75
            else recommender.custom_role(target_text)
        )
    effective_goal = goal
    if goal == "unsure":
        effective_goal = "switch" if target else "grow"
        notes.append("goal 'unsure': the chat asks three questions to choose; without them, a target role means "
                     "reskilling and no target means upskilling")
    note = "; ".join(notes) or None
    if effective_goal == "switch" and target is None:
        raise SkillcoachError("--goal switch needs --target (the role to move into)")
    plan = recommender.plan(current, have, effective_goal, target, hours_per_week=hours, directory=directory,
                            senior=is_senior(role_text))
    plan.matched_roles = {
        "current": [{"id": m.role.id, "title": m.role.title, "score": m.score, "matched": m.matched}
                    for m in role_matches],
        "target": [{"id": m.role.id, "title": m.role.title, "score": m.score, "matched": m.matched}
                   for m in target_matches],
    }
    extra = {"skills_matched": have, "skills_unknown": unknown,
             "note": "; ".join(n for n in (note, plan.note) if n) or None}
    return plan, extra


def run_advise(settings, args) -> int:
    catalog = load_catalog(settings.extra_catalog_dirs)
    recommender = Recommender(catalog)
    directory = load_directory_for(settings, catalog)
    plan, extra = advise(recommender, args.role, args.skills, args.goal, args.target, args.hours, directory,
                         family=args.family)
    if args.json:
        out = plan.as_dict()
        out.update(extra)
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(plain_text(card_text(plan_card(plan.as_dict()))) + "\n")
    if extra["skills_unknown"]:
        sys.stdout.write(f"\n(skills not recognised: {', '.join(extra['skills_unknown'])})\n")
    if extra["note"]:
        sys.stdout.write(f"\n({extra['note']})\n")
    return 0
