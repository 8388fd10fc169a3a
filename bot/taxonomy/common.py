"""What both importers share: the source-neutral occupations and skills they read, the mapping onto
catalog entries (merging with the skills already loaded), the selection (`--only`, `--match-org`) and the
writer, which builds the folder aside, loads it with the shipped catalog and only then puts it in place.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.catalog import IMPORT_MARKER, Association, Catalog, Family, LearningOption, Role, Skill, load_catalog
from bot.errors import CatalogError, SkillcoachError
from bot.matching import CONFIDENT, PLAUSIBLE, RoleMatcher, normalise, warm
from bot.org.file import read_org_file
from bot.taxonomy.tables import TaxonomyError

MARKER = IMPORT_MARKER  # written into every imported folder: what it came from, when
MAX_ROLE_SKILLS = 20
MAX_ADJACENT = 6
MAX_TRENDING = 8
GENERIC_TRAINING_HOURS = 20.0
GENERIC_ASSOCIATION_HOURS = 10.0


@dataclass
class SourceSkill:
    key: str                      # unique within the source (an element id, a concept URI)
    name: str
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    transferable: bool = False


@dataclass
class SourceRole:
    code: str                     # the publisher's code (O*NET-SOC code, ESCO code)
    title: str
    family: str                   # key of a SourceFamily
    alt_titles: list[str] = field(default_factory=list)
    description: str = ""
    skills: list[tuple[str, int]] = field(default_factory=list)  # (skill key, weight 1-5), most important first
    related: list[str] = field(default_factory=list)            # codes of adjacent occupations, closest first
    level: int | None = None      # preparation 1 (little) .. 5 (extensive)
    uri: str = ""


@dataclass
class SourceFamily:
    key: str
    name: str
    trending: list[str] = field(default_factory=list)  # skill keys, strongest signal first


@dataclass
class Taxonomy:
    """Everything one importer read, before it becomes catalog entries."""

    source: str                   # "onet" | "esco"
    publisher: str                # one line for the console
    licence: str
    notice: str                   # the attribution text for NOTICE
    release: str
    families: dict[str, SourceFamily]
    skills: dict[str, SourceSkill]
    roles: dict[str, SourceRole]  # by code


def slug(text: str) -> str:
    text = text.lower().replace("c++", "cpp").replace("c#", "csharp").replace("f#", "fsharp").replace(".net", "dotnet")
    text = text.replace("+", " plus ").replace("#", " sharp ").replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-") or "x"


def code_id(prefix: str, code: str) -> str:
    return f"{prefix}-{slug(code)}"


def matches_code(code: str, wanted: list[str]) -> bool:
    """`--only` takes whole codes or their leading part: 15-1252.00, 15-1252, 15- ; 2654.1.7, 2654, 26."""
    return any(code == w or code.startswith(w) for w in wanted)


# -- selection ---------------------------------------------------------------------------------
def org_role_titles(path: str | Path) -> list[str]:
    """The distinct role titles of an organisation file (any format `skillcoach org check` reads)."""
    report = read_org_file(path, None)
    if not report.ok:
        first = report.problems[0].format(report.source)
        raise TaxonomyError(f"--match-org: the organisation file has {len(report.problems)} problem(s), "
                            f"the first: {first} (see `skillcoach org check {path}`)")
    seen: dict[str, str] = {}
    for person in report.people:
        if person.role.strip():
            seen.setdefault(normalise(person.role), person.role.strip())
    return list(seen.values())


def match_org_titles(roles: dict[str, Role], titles: list[str]) -> tuple[set[str], list[str]]:
    """Role ids matched by the organisation's titles (every match as good as a confirmed one, else the
    best plausible one), and the titles that matched nothing."""
    matcher = RoleMatcher(Catalog(roles=roles))
    chosen: set[str] = set()
    unmatched: list[str] = []
    for title in titles:
        found = matcher.match(title, limit=4)
        sure = [m for m in found if m.score >= CONFIDENT]
        if sure:
            chosen.update(m.role.id for m in sure)
        elif found and found[0].score >= PLAUSIBLE:
            chosen.add(found[0].role.id)
        else:
            unmatched.append(title)
    return chosen, unmatched


# -- mapping -----------------------------------------------------------------------------------
def singular_title(title: str) -> str:
    """O*NET titles are plural ("Registered Nurses"); a person is one of them. Titles that list several
    jobs ("Farmers, Ranchers, and ...") are kept as they are."""
    low = f" {title.lower()} "
    if "," in title or " and " in low or " or " in low or "(" in title or not title.endswith("s"):
        return title
    words = title.split()
    last = words[-1]
    low_last = last.lower()
    if low_last.endswith(("ss", "us", "is", "ics")) or len(last) <= 3:
        return title
    if low_last.endswith("ies"):
        last = last[:-3] + "y"
    elif low_last.endswith(("ches", "shes", "sses", "xes")):
        last = last[:-2]
    else:
        last = last[:-1]
    return " ".join(words[:-1] + [last])


class Mapper:
    """Turns a Taxonomy into catalog entries that fit the catalog already loaded."""

    def __init__(self, taxonomy: Taxonomy, base: Catalog) -> None:
        self.tax = taxonomy
        self.base = base
        self.prefix = taxonomy.source
        self._base_names: dict[str, str] = {}
        for skill in base.skills.values():
            for phrase in (skill.name, skill.id.replace("-", " "), *skill.aliases):
                self._base_names.setdefault(normalise(phrase), skill.id)
        self.skill_ids: dict[str, str] = {}   # source skill key -> catalog skill id
        self.merged: set[str] = set()         # source keys that are a skill already in the catalog
        self.new_skills: dict[str, Skill] = {}
        self._new_by_name: dict[str, str] = {}

    def skill_id(self, key: str) -> str:
        if key in self.skill_ids:
            return self.skill_ids[key]
        src = self.tax.skills[key]
        for phrase in (src.name, *src.aliases):
            found = self._base_names.get(normalise(phrase))
            if found:
                self.skill_ids[key] = found
                self.merged.add(key)
                return found
        same = self._new_by_name.get(normalise(src.name))
        if same:
            self.skill_ids[key] = same
            return same
        base_id = slug(src.name)
        new_id, n = base_id, 2
        while new_id in self.base.skills or new_id in self.new_skills:
            new_id, n = f"{base_id}-{n}", n + 1
        aliases = [a for a in dict.fromkeys(src.aliases) if normalise(a) and normalise(a) != normalise(src.name)]
        self.new_skills[new_id] = Skill(id=new_id, name=src.name, aliases=aliases[:12], transferable=src.transferable,
                                        description=src.description[:600])
        self._new_by_name[normalise(src.name)] = new_id
        self.skill_ids[key] = new_id
        return new_id

    def role_id(self, code: str) -> str:
        return code_id(self.prefix, code)

    def family_id(self, key: str) -> str:
        return f"{self.prefix}-{slug(key)}"

    def role(self, src: SourceRole) -> Role:
        weights: dict[str, int] = {}
        for key, weight in src.skills:
            if key not in self.tax.skills:
                continue
            sid = self.skill_id(key)
            if weights.get(sid, 0) < weight:
                weights[sid] = weight
            if len(weights) >= MAX_ROLE_SKILLS:
                break
        title = singular_title(src.title)
        alts: dict[str, str] = {}
        for alt in [src.title, *src.alt_titles]:
            key = normalise(alt)
            if key and key != normalise(title) and len(alt) <= 200:
                alts.setdefault(key, alt)
        return Role(id=self.role_id(src.code), title=title, family=self.family_id(src.family),
                    alt_titles=list(alts.values()), skills=weights, adjacent=[],
                    description=" ".join(src.description.split())[:1200], level=src.level)


@dataclass
class Result:
    families: list[Family]
    skills: list[Skill]
    roles: list[Role]
    learning: list[LearningOption]
    merged_skills: int
    unmatched_titles: list[str] = field(default_factory=list)


def build(taxonomy: Taxonomy, base: Catalog, *, only: list[str] | None = None,
          org_titles: list[str] | None = None) -> Result:
    mapper = Mapper(taxonomy, base)
    all_roles = {mapper.role_id(code): (src, None) for code, src in taxonomy.roles.items()}
    # roles are mapped lazily: skills are created only for the occupations that are kept
    selected = set(all_roles) if only is None and org_titles is None else set()
    if only is not None:
        selected |= {mapper.role_id(c) for c in taxonomy.roles if matches_code(c, only)}
        if not selected and org_titles is None:
            raise TaxonomyError(f"--only: no occupation has a code starting with any of {', '.join(only)}")
    unmatched: list[str] = []
    if org_titles is not None:
        probe = {}
        for rid, (src, _) in all_roles.items():
            title = singular_title(src.title)
            probe[rid] = Role.model_construct(id=rid, title=title, family="", skills={}, adjacent=[],
                                              alt_titles=[t for t in [src.title, *src.alt_titles] if t != title],
                                              description=src.description, level=None)
        found, unmatched = match_org_titles(probe, org_titles)
        if not found:
            raise TaxonomyError("--match-org: none of the organisation file's role titles matches an occupation "
                                f"({', '.join(org_titles[:5])}{' …' if len(org_titles) > 5 else ''})")
        selected |= found
    roles: dict[str, Role] = {}
    for rid in sorted(selected):
        src = all_roles[rid][0]
        role = mapper.role(src)
        if not role.skills:
            continue  # an occupation without a single rated skill cannot be planned for
        roles[rid] = role
    by_code = {mapper.role_id(code): src for code, src in taxonomy.roles.items()}
    for rid, role in roles.items():
        adjacent = [mapper.role_id(c) for c in by_code[rid].related]
        role.adjacent = [a for a in dict.fromkeys(adjacent) if a in roles and a != rid][:MAX_ADJACENT]
    # families: only those with roles; trending: the family's flagged skills its roles use
    used_families = {r.family for r in roles.values()}
    families: list[Family] = []
    for key, fam in taxonomy.families.items():
        fid = mapper.family_id(key)
        if fid not in used_families:
            continue
        in_use = {s for r in roles.values() if r.family == fid for s in r.skills}
        trending = [mapper.skill_ids[k] for k in fam.trending if k in mapper.skill_ids]
        trending = [s for s in dict.fromkeys(trending) if s in in_use][:MAX_TRENDING]
        # the plan points to "the professional association below": name the kind honestly, not one we don't know
        association = Association(
            name=f"A professional association of {fam.name[:1].lower() + fam.name[1:]}",
            description="Ask your L&D team or colleagues in the field which association they belong to: "
                        "most offer events, courses, certification and a network of peers.")
        families.append(Family(id=fid, name=fam.name, trending=trending, associations=[association]))
    missing = used_families - {f.id for f in families}
    if missing:
        raise TaxonomyError(f"occupations refer to groups the download does not name: {', '.join(sorted(missing))}")
    skills = [s for sid, s in mapper.new_skills.items() if any(sid in r.skills for r in roles.values())]
    learning = generic_learning(roles, families, base, {s.id for s in skills}, taxonomy.source)
    return Result(families, skills, list(roles.values()), learning, merged_skills=len(mapper.merged),
                  unmatched_titles=unmatched)


def generic_learning(roles: dict[str, Role], families: list[Family], base: Catalog, new_skills: set[str],
                     prefix: str) -> list[LearningOption]:
    """Honest ways to learn a skill nobody has listed a course for: ask the employer's L&D team, and a
    professional association of the field. Skills the catalog already has options for keep those."""
    without = {s for r in roles.values() for s in r.skills if not base.options_for(s)}
    out: list[LearningOption] = []
    if without:
        out.append(LearningOption(
            id=f"{prefix}-employer-training", title="Training arranged with your employer's learning and development team",
            provider="Your employer's L&D team", type="program", hours=GENERIC_TRAINING_HOURS, cost="employer",
            skills=sorted(without)))
    for family in families:
        skills = sorted({s for r in roles.values() if r.family == family.id for s in r.skills} & without)
        if skills:
            out.append(LearningOption(
                id=f"{family.id}-association", title=f"Events, courses and peers through a professional association "
                                                    f"in {family.name}",
                provider="A professional association of your field", type="community",
                hours=GENERIC_ASSOCIATION_HOURS, skills=skills, families=[family.id]))
    return out


# -- writing -----------------------------------------------------------------------------------
def _dump(path: Path, data: dict) -> None:
    # JSON of the catalog's shape: it loads many times faster than YAML at a whole taxonomy's size
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _entry(model) -> dict:
    return {"id": model.id} | model.model_dump(exclude_defaults=True)


def write(result: Result, taxonomy: Taxonomy, out: Path, *, base_dirs: list[Path], argv: list[str]) -> dict:
    """Write the catalog into a folder beside `out`, load it with the catalog, then move it into place."""
    out = out.resolve()
    if out.exists() and not (out / MARKER).exists() and (not out.is_dir() or any(out.iterdir())):
        raise TaxonomyError(f"{out}: exists and is not a folder written by `skillcoach catalog import`; "
                            f"choose a new or empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the server may run as another user
    try:
        _dump(tmp / "families.json", {"families": [_entry(f) for f in result.families]})
        _dump(tmp / "skills.json", {"skills": [_entry(s) for s in result.skills]})
        _dump(tmp / "learning.json", {"learning": [_entry(o) for o in result.learning]})
        (tmp / "roles").mkdir()
        by_family: dict[str, list[Role]] = {}
        for role in result.roles:
            by_family.setdefault(role.family, []).append(role)
        for fid, roles in sorted(by_family.items()):
            _dump(tmp / "roles" / f"{fid}.json", {"roles": [_entry(r) for r in roles]})
        (tmp / "NOTICE").write_text(taxonomy.notice.strip() + "\n", encoding="utf-8")
        summary = {"source": taxonomy.source, "release": taxonomy.release, "licence": taxonomy.licence,
                   "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": argv,
                   "families": len(result.families), "roles": len(result.roles),
                   "new_skills": len(result.skills), "merged_skills": result.merged_skills,
                   "learning_options": len(result.learning)}
        (tmp / MARKER).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        try:
            catalog = load_catalog([*base_dirs, tmp])  # validated exactly as at start-up
        except CatalogError as exc:
            raise SkillcoachError(f"the imported catalog does not load: {exc}") from None
        warm(catalog)  # builds the matching indexes and stores them in .index/ (bot.taxonomy.cache)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
