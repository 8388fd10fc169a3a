"""The recommender: from a role, skills and a goal to a plan (pure; no I/O).

Path: growing in the current role is upskilling; moving to a different role is reskilling.
Skills to build are the gaps against the role the person aims at, ranked by how important the skill is
for that role, whether it is trending in the field, and whether there is a way to learn it. For
reskilling, the strengths that transfer are the skills the person has (or their current role relies on)
that the new role also uses, and broadly transferable skills such as writing or research.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from bot.catalog import Catalog, LearningOption, Role
from bot.learning_options import PlanOption, choose_options, fitting_options
from bot.matching import RoleMatcher, SkillMatcher, normalise
from bot.people import Directory

PREFS = ("courses", "mentoring", "peer_coaching", "shadowing", "associations")
DEFAULT_HOURS = 20.0  # a skill with no listed learning option
TREND_BONUS = {"lt1": 1.0, "1to3": 2.5, "3to5": 3.0, "5plus": 3.5}  # by time in the role (upskilling)
# Skills that a senior person grows into beyond their role's own list (those the catalog has).
LEADERSHIP_SKILLS = ("leadership", "coaching-and-mentoring", "strategic-thinking", "people-management",
                     "influencing", "change-management")
_SENIOR = re.compile(r"\b(senior|snr|sr|lead|principal|staff|head|chief|director|vp|expert|veteran)\b", re.I)
_SPEAKER = re.compile(
    r"^\s*(?:hi|hello|hey)?[\s,!.]*(?:i am|i'm|im|i work as|i work|i'm working as|my role is|my job is|"
    r"my title is|currently|i do)\s+(?:an?\s+|the\s+)?", re.I)


def is_senior(role_text: str, tenure: str | None = None) -> bool:
    """Senior, lead, principal or head-of titles, or more than five years in the role."""
    return tenure == "5plus" or bool(_SENIOR.search(role_text or ""))


def display_title(text: str) -> str:
    """A custom role's title as a person typed it, without the sentence around it:
    "I am a nurse on a hospital ward" -> "Nurse on a hospital ward"."""
    title = _SPEAKER.sub("", (text or "").strip()).strip(" .!?")[:120]
    return (title[:1].upper() + title[1:]) if title else "Your role"


@dataclass(frozen=True)
class RoleRef:
    """A role as the person described it: a catalog role, or a custom title with a guessed family."""

    id: str | None
    title: str
    family: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "family": self.family}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> RoleRef | None:
        if not d:
            return None
        return cls(d.get("id"), d.get("title") or "", d.get("family"))


@dataclass
class PlanSkill:
    id: str
    name: str
    reason: str
    importance: int
    trending: bool
    options: list[PlanOption] = field(default_factory=list)
    done: bool = False


@dataclass
class PlanPerson:
    email: str
    name: str
    role: str
    offer: str            # mentoring | peer_coaching | shadowing
    skills: list[str]     # skill ids from the plan they can help with
    why: str


@dataclass
class Plan:
    path: str             # upskill | reskill
    path_reason: str
    current: dict[str, Any]
    target: dict[str, Any]
    skills: list[PlanSkill]
    strengths: list[str]  # skill names
    people: list[PlanPerson]
    association: dict[str, str] | None
    hours_per_week: float
    total_hours: float
    weeks: int
    matched_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    note: str | None = None  # set when the plan is a starting point (a role the catalog does not have)
    level: str | None = None  # "senior" when the role's fundamentals are taken as known

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """`dataclasses.asdict` for the plan's own data (dataclasses, lists, tuples, dicts of JSON values):
    the same result, without its generic deep copy of every leaf (a plan is built on the turn's path)."""
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(kind):
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if kind is list or kind is tuple:
        return kind(_plain(v) for v in value)
    if kind is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value   # str, numbers, None, bool: immutable


class Recommender:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.roles = RoleMatcher(catalog)
        self.skills = SkillMatcher(catalog)

    # -- roles ------------------------------------------------------------------------------
    def custom_role(self, title: str, family: str | None = None) -> RoleRef:
        """A role the catalog does not have, kept in the person's words; its field only when they chose one."""
        return RoleRef(None, display_title(title), family if family in self.catalog.families else None)

    def likely_families(self, text: str, limit: int = 5) -> list[str]:
        """Fields to offer first when a role could not be placed (never chosen for the person)."""
        out: list[str] = []
        for m in self.roles.match(text, limit=12):
            if m.role.family not in out:
                out.append(m.role.family)
        return out[:limit]

    def role_ref(self, role: Role) -> RoleRef:
        return RoleRef(role.id, role.title, role.family)

    def role_skills(self, ref: RoleRef | None) -> dict[str, int]:
        """Skill weights for a role; for a custom role, what its family's roles share most."""
        if ref is None:
            return {}
        if ref.id and ref.id in self.catalog.roles:
            return dict(self.catalog.roles[ref.id].skills)
        if not ref.family:
            # no field chosen: the broadly transferable skills are the honest starting point
            uses: dict[str, int] = {}
            for role in self.catalog.roles.values():
                for skill in role.skills:
                    if self.catalog.skills[skill].transferable:
                        uses[skill] = uses.get(skill, 0) + 1
            common = sorted(uses, key=lambda s: (-uses[s], s))[:10]
            return {s: 4 if i < 3 else 3 for i, s in enumerate(common)}
        totals: dict[str, list[int]] = {}
        family_roles = [r for r in self.catalog.roles.values() if r.family == ref.family]
        for role in family_roles:
            for skill, weight in role.skills.items():
                totals.setdefault(skill, []).append(weight)
        ranked = sorted(totals.items(), key=lambda kv: (-len(kv[1]) * sum(kv[1]), kv[0]))[:10]
        return {skill: max(1, min(5, round(sum(ws) / len(ws)))) for skill, ws in ranked}

    def top_skills(self, ref: RoleRef | None, limit: int = 10) -> list[str]:
        weights = self.role_skills(ref)
        return [s for s, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]

    # -- the plan ---------------------------------------------------------------------------
    def plan(
        self,
        current: RoleRef,
        have: list[str],
        goal: str,
        target: RoleRef | None = None,
        *,
        hours_per_week: float = 4.0,
        prefs: list[str] | None = None,
        directory: Directory | None = None,
        me_email: str | None = None,
        max_skills: int = 5,
        max_people: int = 3,
        tenure: str | None = None,
        senior: bool = False,
    ) -> Plan:
        prefs = [p for p in (prefs or list(PREFS)) if p in PREFS] or list(PREFS)
        reskill = goal == "switch" and target is not None and (target.id != current.id or target.id is None)
        aim = target if reskill else current
        path = "reskill" if reskill else "upskill"
        have_set = set(have)
        weights = self.role_skills(aim)
        family = self.catalog.families.get(aim.family or "")
        trending = set(family.trending) if family else set()

        # New in a role, the role's essentials come first; after years in it, where the field is going
        # counts for more.
        trend_bonus = TREND_BONUS.get(tenure or "", 2.5) if not reskill else 2.5
        senior = (senior or tenure == "5plus") and not reskill and aim.id is not None
        fundamentals: set[str] = set()
        if senior:
            # someone senior knows their job's essentials: the plan leans to advanced, leadership and
            # trending skills instead
            fundamentals = {s for s, w in weights.items() if w >= 4 and s not in trending}
            for skill in LEADERSHIP_SKILLS:
                if skill in self.catalog.skills and skill not in weights:
                    weights[skill] = 3
        candidates: dict[str, float] = {}
        for skill, weight in weights.items():
            if skill in have_set or skill in fundamentals:
                continue
            candidates[skill] = weight * 2.0 + (trend_bonus if skill in trending else 0.0) + (
                0.5 if self.catalog.options_for(skill) else 0.0
            ) + (2.0 if senior and skill in LEADERSHIP_SKILLS else 0.0)
        if not reskill:
            # growing in place: what the field is moving towards counts even beyond the role's list
            for skill in trending - have_set - set(candidates):
                candidates[skill] = 3 * 2.0 + trend_bonus
        ranked = sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0]))
        chosen = [s for s, _ in ranked[:max_skills]]
        if len(chosen) < 3:
            # already strong: stretch towards the adjacent roles' key skills
            for role_id in self._stretch_roles(aim):
                for skill, _w in sorted(self.catalog.roles[role_id].skills.items(), key=lambda kv: -kv[1]):
                    if skill not in have_set and skill not in chosen:
                        chosen.append(skill)
                    if len(chosen) >= 3:
                        break
                if len(chosen) >= 3:
                    break

        used: set[str] = set()  # options already suggested for an earlier skill: not listed twice
        plan_skills = []
        for n, s in enumerate(chosen):
            ps = self._plan_skill(s, weights.get(s, 3), s in trending, aim, reskill, prefs, used, chosen[n + 1:])
            used.update(o.id for o in ps.options)
            plan_skills.append(ps)
        strengths = self._strengths(current, have, weights) if reskill else []
        people = self._people(plan_skills, prefs, aim, reskill, directory, me_email, max_people)
        association = None
        if family and family.associations:
            a = family.associations[0]
            association = {"name": a.name, "url": a.url, "description": a.description}
        # hours: the first way to learn each skill, an option shared by several skills counted once
        firsts = {ps.options[0].id: ps.options[0].hours for ps in plan_skills if ps.options}
        total = sum(firsts.values()) + DEFAULT_HOURS * sum(1 for ps in plan_skills if not ps.options)
        hours = max(0.5, float(hours_per_week or 1))
        weeks = max(1, math.ceil(total / hours))
        if reskill:
            reason = (
                f"You want to go from {role_noun(current.title)} to {role_noun(aim.title)}: that is reskilling — "
                f"building the skills a different job needs."
            )
        elif current.id is None:
            reason = (
                f"You want to grow in your current role ({current.title}): that is upskilling — "
                f"building on the job you have and keeping up with the latest in {self._field(aim)}."
            )
        else:
            reason = (
                f"You want to grow as {role_noun(current.title)}: that is upskilling — "
                f"building on the job you have and keeping up with the latest in {self._field(aim)}."
            )
        step = self._level_step(current, aim) if reskill else 0
        if step >= 2:
            reason += (f" {aim.title} usually takes a good deal more preparation than {current.title} "
                       f"(level {self.catalog.roles[aim.id].level} of 5 against {self.catalog.roles[current.id].level}): "
                       "expect a longer path, and count formal training or a qualification among the options.")
        if senior:
            reason += (" You're experienced in the role, so I've taken its fundamentals as known: this plan "
                       "leans to advanced, leadership and trending skills.")
        note = None
        if aim.id is None:
            note = (f"\"{aim.title}\" isn't in my catalog, so this plan is a starting point built from "
                    + (f"the common skills of {self.catalog.family_name(aim.family)}" if aim.family
                       else "broadly transferable skills")
                    + " and your strengths.")
        return Plan(
            path=path,
            path_reason=reason,
            current=current.as_dict(),
            target=aim.as_dict(),
            skills=plan_skills,
            strengths=strengths,
            people=people,
            association=association,
            hours_per_week=hours,
            total_hours=round(total, 1),
            weeks=weeks,
            note=note,
            level="senior" if senior else None,
        )

    def _level_step(self, current: RoleRef, aim: RoleRef) -> int:
        """How many preparation levels (imported job zones / ISCO skill levels) the move climbs; 0 unknown."""
        a = self.catalog.roles.get(current.id or "")
        b = self.catalog.roles.get(aim.id or "")
        if a is None or b is None or a.level is None or b.level is None:
            return 0
        return b.level - a.level

    def _stretch_roles(self, aim: RoleRef) -> list[str]:
        """Adjacent roles to stretch towards: with levels known, the next step up first, then the same
        level, then the rest (a move down is the last place to look for growth)."""
        role = self.catalog.roles.get(aim.id or "")
        if role is None:
            return []
        if role.level is None:
            return list(role.adjacent)

        def rank(other_id: str) -> int:
            other = self.catalog.roles[other_id].level
            if other is None:
                return 2
            return {1: 0, 0: 1}.get(other - role.level, 3 if other < role.level else 2)

        return sorted(role.adjacent, key=rank)

    def _field(self, ref: RoleRef) -> str:
        return self.catalog.family_name(ref.family).lower() if ref.family else "your field"

    def _plan_skill(self, skill: str, weight: int, trending: bool, aim: RoleRef, reskill: bool,
                    prefs: list[str], used: set[str] | None = None, later: list[str] | None = None) -> PlanSkill:
        reasons = []
        importance = {5: "essential", 4: "very important", 3: "important", 2: "useful", 1: "nice to have"}[weight]
        if reskill:
            reasons.append(f"{importance} for {aim.title} ({weight}/5) and new to you")
        else:
            reasons.append(f"{importance} for your role ({weight}/5) and not yet among your strengths")
        if trending:
            reasons.append(f"trending in {self._field(aim)}")
        return PlanSkill(
            id=skill,
            name=self.catalog.skill_name(skill),
            reason="; ".join(reasons),
            importance=weight,
            trending=trending,
            options=self._options(skill, prefs, used or set(), aim, later or [], joining=reskill),
        )

    def fitting_options(self, skill: str, aim: RoleRef, *, joining: bool = False) -> list[LearningOption]:
        return fitting_options(self.catalog, skill, aim.id, aim.family, joining=joining)

    def _options(self, skill: str, prefs: list[str], used: set[str], aim: RoleRef,
                 later: list[str] | None = None, *, joining: bool = False) -> list[PlanOption]:
        return choose_options(self.catalog, skill, prefs, used, aim.id, aim.family, later or [], joining=joining)

    def _strengths(self, current: RoleRef, have: list[str], target_weights: dict[str, int]) -> list[str]:
        """Skills that carry over: shared with the new role first, then broadly transferable ones."""
        own = list(have)
        current_weights = self.role_skills(current)
        if not own:
            own = [s for s, _ in sorted(current_weights.items(), key=lambda kv: (-kv[1], kv[0]))]
        shared = [s for s in own if s in target_weights]
        transferable = [
            s for s in sorted(own, key=lambda s: (-current_weights.get(s, 3), s))
            if s not in shared and s in self.catalog.skills and self.catalog.skills[s].transferable
        ]
        return [self.catalog.skill_name(s) for s in (shared + transferable)[:5]]

    def _people(self, skills: list[PlanSkill], prefs: list[str], aim: RoleRef, reskill: bool,
                directory: Directory | None, me_email: str | None, limit: int = 3) -> list[PlanPerson]:
        if directory is None or not len(directory):
            return []
        offers = [o for o in ("mentoring", "peer_coaching", "shadowing") if o in prefs] or [
            "mentoring", "peer_coaching", "shadowing"
        ]
        gap = {s.id for s in skills}
        aim_title = normalise(aim.title)
        scored: list[tuple[float, PlanPerson]] = []
        for person in directory.people.values():
            if me_email and person.email.lower() == me_email.lower():
                continue
            if person.capacity <= 0:
                continue
            overlap = [s for s in person.skills if s in gap]
            in_role = bool(aim_title) and normalise(person.role) == aim_title
            for offer in person.offers:
                if offer not in offers:
                    continue
                if offer == "shadowing" and not in_role:
                    continue  # shadowing means watching someone do the job you want
                if not overlap and not in_role:
                    continue
                score = len(overlap) * 2 + (3 if in_role else 0) + (1 if offer == "shadowing" and reskill else 0)
                bits = []
                if overlap:
                    bits.append("knows " + ", ".join(self.catalog.skill_name(s) for s in overlap[:3]))
                if in_role:
                    bits.append(f"works as {person.role}")
                why = f"offers {offer.replace('_', ' ')}; " + " and ".join(bits)
                scored.append((score, PlanPerson(person.email, person.name, person.role, offer, overlap, why)))
        scored.sort(key=lambda sp: (-sp[0], sp[1].email, sp[1].offer))
        out: list[PlanPerson] = []
        seen: set[str] = set()
        for _, pp in scored:
            if pp.email in seen:
                continue
            seen.add(pp.email)
            out.append(pp)
            if len(out) >= limit:
                break
        return out


def article(title: str) -> str:
    """'a' or 'an' before a role title, by the sound of its first word: an HR adviser, a UX designer,
    an urban planner, a university lecturer."""
    word = (title.split() or [""])[0].strip("\"'(")
    if len(word) > 1 and word.replace("-", "").isupper():      # an acronym, read letter by letter
        return "an" if word[0] in "AEFHILMNORSX" else "a"
    low = word.lower()
    if low.startswith(("uni", "use", "usu", "uti", "eu", "one")):
        return "a"
    if low.startswith(("hour", "honest", "honour", "heir")):
        return "an"
    return "an" if low[:1] in ("a", "e", "i", "o", "u") else "a"


def role_noun(title: str) -> str:
    """A role title as a noun phrase in a sentence: 'Software developer' → 'a software developer'
    (the first word lower-cased unless it is an acronym or mixed case: 'an HR adviser', 'a DevOps engineer')."""
    title = title.strip()
    if not title:
        return title
    first, _, rest = title.partition(" ")
    if first[:1].isupper() and first[1:] == first[1:].lower():
        first = first.lower()
    phrase = f"{first} {rest}" if rest else first
    return f"{article(title)} {phrase}"
