"""Ways to learn a skill in a plan (pure; no I/O): which of the catalog's learning options suit the role aimed at,
and which one or two of them to list under each skill of a plan."""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalog import Catalog, LearningOption


@dataclass
class PlanOption:
    id: str
    title: str
    provider: str
    type: str
    hours: float
    url: str = ""


def fitting_options(catalog: Catalog, skill: str, role_id: str | None, family: str | None, *,
                    joining: bool = False) -> list[LearningOption]:
    """The catalog's ways to learn a skill that suit the role aimed at: an option made for particular fields
    only in their plans, one made for particular roles only in those roles' plans (a role the catalog does not
    have gets none of those), and a route into the role (`entry`) only for someone `joining` it."""
    return [o for o in catalog.options_for(skill)
            if (not o.families or family in o.families) and (not o.roles or role_id in o.roles)
            and (joining or not o.entry)]


def choose_options(catalog: Catalog, skill: str, prefs: list[str], used: set[str], role_id: str | None,
                   family: str | None, later: list[str], *, joining: bool = False) -> list[PlanOption]:
    """One or two ways to learn a skill: the kinds the person prefers first (a course before a practice project
    for someone who likes courses), and among them one made for their role, then free or employer-paid before
    paid, short first. An option already listed under an earlier skill of the plan (`used`) is not listed again, and one
    that is the last way left to learn a later skill of the plan (`later`) is left for it; only a skill whose
    every way to learn it is already listed names the best of those again (the plan's hours count it once)."""
    fitting = fitting_options(catalog, skill, role_id, family, joining=joining)
    options = [o for o in fitting if o.id not in used]
    again = not options  # every way to learn it is listed under an earlier skill: name the best of them again
    if again:
        options = fitting
    if not options:
        return []
    order: list[str] = []
    if "courses" in prefs:
        order += ["course", "program", "workshop", "certification", "book"]
    if "mentoring" in prefs or "peer_coaching" in prefs or "shadowing" in prefs:
        order += ["practice"]
    if "associations" in prefs:
        order += ["community"]

    def last_ways(taken: set[str]) -> set[str]:
        """Options that are the only one left for some later skill once `taken` are listed."""
        out: set[str] = set()
        for other in later:
            left = [o.id for o in fitting_options(catalog, other, role_id, family, joining=joining)
                    if o.id not in taken]
            if len(left) == 1:
                out.add(left[0])
        return out

    spare = last_ways(used)

    def rank(o: LearningOption) -> tuple:
        kind = order.index(o.type) if o.type in order else len(order)
        return (o.id in spare, kind, role_id not in o.roles, 0 if o.cost in ("free", "employer") else 1,
                o.hours, o.id)

    ranked = sorted(options, key=rank)
    chosen = ranked[:1]
    if again:
        return [PlanOption(o.id, o.title, o.provider, o.type, o.hours, o.url) for o in chosen]
    # the second option offers a different kind of learning where there is one, and never takes a later
    # skill's last way to learn it
    spare = last_ways(used | {chosen[0].id})
    rest = [o for o in ranked[1:] if o.id not in spare]
    second = next((o for o in rest if o.type != chosen[0].type), rest[0] if rest else None)
    if second is not None:
        chosen.append(second)
    return [PlanOption(o.id, o.title, o.provider, o.type, o.hours, o.url) for o in chosen]
