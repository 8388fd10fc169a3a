"""The organisation file: people, reporting lines and who offers help (YAML, JSON or CSV).

Formats (columns / keys as in DESIGN.md: email, name, role, manager, slack_id, teams_id, skills, offers,
capacity, location):

* YAML: a mapping with a list under ``people:`` (a bare top-level list is accepted too).
* JSON: the same shape, ``{"people": [...]}``.
* CSV: a header row with the column names, one person per row. ``skills`` and ``offers`` hold several
  values in one cell separated by ``;`` (``|`` is accepted too; a cell with neither is split on commas,
  so ``"Python, SQL"`` in a quoted cell works). In YAML/JSON they may be lists or such strings.

Problems are reported with the line they start on (CSV: the file line of the row, the header being
line 1; YAML/JSON: the line where the person's entry starts). Every problem is reported, not just the
first: missing email or name, a malformed email, the same email twice, a manager who is not in the
file, reporting cycles, unknown offers, a capacity that is not a whole number ≥ 0, unknown columns.
Skills are free text matched to catalog skills (id, name or alias, case-insensitive; otherwise a close
fuzzy match); a skill that matches nothing is left out with a warning, which does not make the file
invalid. A person who offers help without a capacity gets a capacity of 1.

At run time (`watch_org_file`, started with the server) the file is polled for changes; a changed file
replaces the directory only if it is valid — otherwise the server logs why and keeps the previous one.
At start a broken file does not stop the server: it starts with an empty directory and an ERROR log
naming every problem, and picks the file up as soon as it is fixed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from bot.catalog import Catalog
from bot.errors import OrgFileError
from bot.matching import SkillMatcher as ChatSkillMatcher
from bot.org.formats import COLUMNS, Problem, format_of, rows_from_csv, rows_from_json, rows_from_yaml
from bot.people import OFFERS, Directory, Person
from bot.settings import Settings

log = logging.getLogger("skillcoach.org")

EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
DEFAULT_HELPER_CAPACITY = 1
FUZZY_CUTOFF = 80           # fuzz.ratio (Indel); one swapped pair in a 6-letter word scores 83

_OFFER_WORDS = {
    "mentoring": "mentoring", "mentor": "mentoring", "mentorship": "mentoring",
    "peer_coaching": "peer_coaching", "peer coaching": "peer_coaching", "peer-coaching": "peer_coaching",
    "peer coach": "peer_coaching", "coaching": "peer_coaching",
    "shadowing": "shadowing", "job shadowing": "shadowing", "shadow": "shadowing",
    "job_shadowing": "shadowing", "job-shadowing": "shadowing",
}


@dataclass
class OrgReport:
    """The outcome of reading an organisation file: people when valid, and every problem found."""

    source: str
    people: list[Person] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def directory(self) -> Directory:
        if not self.ok:
            raise OrgFileError(
                f"{self.source}: {len(self.problems)} problem(s):\n"
                + "\n".join(p.format(self.source) for p in self.problems)
            )
        return Directory.of(self.people, self.source)


# -- skills ------------------------------------------------------------------------------------
class SkillMatcher:
    """Free-text skill names to catalog skill ids: exact id / name / alias, else a close match by plain
    similarity (stricter than the chat's, since nobody is there to confirm it)."""

    def __init__(self, catalog: Catalog | None) -> None:
        self._matcher = ChatSkillMatcher(catalog) if catalog else None

    def match(self, text: str) -> str | None:
        if self._matcher is None:
            return None
        return self._matcher.match_one(str(text).replace("_", " "), cutoff=FUZZY_CUTOFF, scorer=fuzz.ratio)


def _norm(text: str) -> str:
    return " ".join(str(text).casefold().replace("_", " ").split())


def split_list(value: Any) -> list[str]:
    """A list cell: a YAML/JSON list, or a string separated by ';' or '|' (else by ',')."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    text = str(value)
    if ";" in text or "|" in text:
        parts = re.split(r"[;|]", text)
    else:
        parts = text.split(",")
    return [p.strip() for p in parts if p.strip()]


# -- validation ----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_text(text: str, *, source: str, fmt: str, catalog: Catalog | None) -> OrgReport:
    """Read and validate organisation data given as text (fmt: 'yaml', 'json' or 'csv')."""
    reader = {"yaml": rows_from_yaml, "json": rows_from_json, "csv": rows_from_csv}[fmt]
    rows, problems = reader(text)
    report = OrgReport(source, problems=list(problems))
    matcher = SkillMatcher(catalog)
    people: list[tuple[int | None, Person]] = []
    first_row: dict[str, int | None] = {}
    manager_refs: list[tuple[int | None, str]] = []
    for line, entry in rows:
        if not isinstance(entry, dict):
            report.problems.append(Problem(line, f"expected an entry with keys {', '.join(COLUMNS)}"))
            continue
        if fmt != "csv":
            for key in entry:
                if str(key).lower() not in COLUMNS:
                    report.problems.append(
                        Problem(line, f"unknown column {key!r} (columns are: {', '.join(COLUMNS)})")
                    )
            entry = {str(k).lower(): v for k, v in entry.items()}
        person = _person(line, entry, matcher, report)
        manager = _text(entry.get("manager")).lower()
        if manager and EMAIL_RE.match(manager):
            manager_refs.append((line, manager))
        if person is None:
            continue
        key = person.email
        if key in first_row:
            where = f" (first on line {first_row[key]})" if first_row[key] else ""
            report.problems.append(Problem(line, f"duplicate email {person.email}{where}"))
            continue
        first_row[key] = line
        people.append((line, person))
    _check_managers(people, manager_refs, first_row, report)
    report.people = [p for _, p in people]
    report.problems.sort(key=lambda p: (p.line or 0))
    return report


def _person(line: int | None, entry: dict[str, Any], matcher: SkillMatcher, report: OrgReport) -> Person | None:
    email = _text(entry.get("email")).lower()
    name = _text(entry.get("name"))
    if not email:
        report.problems.append(Problem(line, "missing email"))
    elif not EMAIL_RE.match(email):
        report.problems.append(Problem(line, f"bad email {email!r}"))
    if not name:
        report.problems.append(Problem(line, "missing name"))
    manager = _text(entry.get("manager")).lower() or None
    if manager and not EMAIL_RE.match(manager):
        report.problems.append(Problem(line, f"bad manager email {manager!r}"))
        manager = None
    offers: list[str] = []
    for word in split_list(entry.get("offers")):
        offer = _OFFER_WORDS.get(_norm(word)) or _OFFER_WORDS.get(word.strip().lower())
        if offer is None:
            report.problems.append(Problem(line, f"unknown offer {word!r} (offers are: {', '.join(OFFERS)})"))
        elif offer not in offers:
            offers.append(offer)
    raw_capacity = entry.get("capacity")
    capacity = DEFAULT_HELPER_CAPACITY if offers else 0
    if raw_capacity is not None and _text(raw_capacity) != "":
        if isinstance(raw_capacity, int) and not isinstance(raw_capacity, bool) and raw_capacity >= 0:
            capacity = raw_capacity
        elif isinstance(raw_capacity, str) and re.fullmatch(r"\d{1,6}", raw_capacity.strip()):
            capacity = int(raw_capacity.strip())
        else:
            report.problems.append(Problem(line, f"bad capacity {raw_capacity!r} (a whole number, 0 or more)"))
    skills: list[str] = []
    for text in split_list(entry.get("skills")):
        skill = matcher.match(text)
        if skill is None:
            report.warnings.append(Problem(line, f"skill {text!r} matches no catalog skill; left out"))
        elif skill not in skills:
            skills.append(skill)
    if not email or not EMAIL_RE.match(email):
        return None
    return Person(
        email=email, name=name, role=_text(entry.get("role")), manager=manager,
        slack_id=_text(entry.get("slack_id")) or None, teams_id=_text(entry.get("teams_id")) or None,
        skills=tuple(skills), offers=tuple(offers), capacity=capacity, location=_text(entry.get("location")),
    )


def _check_managers(people: list[tuple[int | None, Person]], manager_refs: list[tuple[int | None, str]],
                    rows: dict[str, int | None], report: OrgReport) -> None:
    by_email = {p.email: p for _, p in people}
    for line, manager in manager_refs:
        if manager not in rows:
            report.problems.append(Problem(line, f"manager {manager} is not in the file"))
    reported: set[str] = set()
    for _, person in people:
        chain: list[str] = []
        current: Person | None = person
        while current is not None and current.manager and current.email not in chain:
            chain.append(current.email)
            current = by_email.get(current.manager)
        if current is None or current.email not in chain:
            continue
        cycle = chain[chain.index(current.email):]
        if cycle[0] in reported or any(e in reported for e in cycle):
            continue
        reported.update(cycle)
        start = min(cycle, key=lambda e: rows.get(e) or 0)
        loop = cycle[cycle.index(start):] + cycle[: cycle.index(start)]
        path = " -> ".join(loop + [start])
        report.problems.append(Problem(rows.get(start), f"reporting cycle: {path}"))


def read_org_file(path: str | Path, catalog: Catalog | None) -> OrgReport:
    """Read and validate an organisation file; never raises for its content."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return OrgReport(str(path), problems=[Problem(None, f"cannot be read: {exc.strerror or exc}")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return OrgReport(str(path), problems=[Problem(None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    return parse_text(text, source=str(path), fmt=format_of(path, text), catalog=catalog)


def load_directory(path: str | Path, catalog: Catalog | None) -> Directory:
    """The directory from a file; raises OrgFileError listing every problem."""
    stamp = file_stamp(path)
    report = read_org_file(path, catalog)
    for warning in report.warnings:
        log.warning("%s", warning.format(report.source))
    directory = report.directory()
    directory.stamp = stamp
    return directory


def load_directory_for(settings: Settings, catalog: Catalog) -> Directory:
    """The directory from SKILLCOACH_ORG, or an empty one when no file is configured.

    A broken file does not stop the server: it starts with an empty directory and logs every problem
    at ERROR; the file watcher loads it once it is fixed.
    """
    if not settings.org_file:
        log.info("no organisation file (SKILLCOACH_ORG) configured: people directory is empty")
        return Directory()
    try:
        directory = load_directory(settings.org_file, catalog)
    except OrgFileError as exc:
        log.error("organisation file not loaded; serving with an empty directory until it is fixed. %s", exc)
        empty = Directory(source=str(settings.org_file))
        empty.stamp = file_stamp(settings.org_file)
        return empty
    log.info("organisation file %s: %d people", settings.org_file, len(directory))
    return directory


def file_stamp(path: str | Path) -> tuple[int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
