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

This module also ties organisation people to platform users (`platform_user_id`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.catalog import Catalog
from bot.errors import OrgFileError
from bot.people import OFFERS, Directory, Person

log = logging.getLogger("skillcoach.org")

COLUMNS = ("email", "name", "role", "manager", "slack_id", "teams_id", "skills", "offers", "capacity",
           "location")
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
DEFAULT_HELPER_CAPACITY = 1
FUZZY_CUTOFF = 80           # fuzz.ratio (Indel); one swapped pair in a 6-letter word scores 83
POLL_SECONDS = 3.0
IDENTITIES = "identities"          # "platform:email" -> {"user_id": str|None, "at"}; "platform#id" -> {"email"}
NEGATIVE_TTL = 6 * 3600.0          # how long "no such user on this platform" is believed

_OFFER_WORDS = {
    "mentoring": "mentoring", "mentor": "mentoring", "mentorship": "mentoring",
    "peer_coaching": "peer_coaching", "peer coaching": "peer_coaching", "peer-coaching": "peer_coaching",
    "peer coach": "peer_coaching", "coaching": "peer_coaching",
    "shadowing": "shadowing", "job shadowing": "shadowing", "shadow": "shadowing",
    "job_shadowing": "shadowing", "job-shadowing": "shadowing",
}


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.message}" if self.line else f"{source}: {self.message}"


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
        from bot.matching import SkillMatcher as ChatSkillMatcher

        self._matcher = ChatSkillMatcher(catalog) if catalog else None

    def match(self, text: str) -> str | None:
        if self._matcher is None:
            return None
        from rapidfuzz import fuzz

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


# -- reading the three formats -------------------------------------------------------------------
def _rows_from_yaml(text: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem(mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if data is None:
        return [], [Problem(None, "the file is empty; expected a list under 'people:'")]
    seq = None
    if isinstance(data, dict) and isinstance(node, yaml.MappingNode):
        unknown = [k for k in data if k != "people"]
        if "people" not in data:
            return [], [Problem(1, "expected a list under 'people:'")]
        for key_node, value_node in node.value:
            if key_node.value == "people":
                seq = value_node
        items = data["people"]
        problems = [Problem(1, f"unknown top-level key {k!r} (only 'people' is read)") for k in unknown]
    elif isinstance(data, list):
        seq, items, problems = node, data, []
    else:
        return [], [Problem(1, "expected a mapping with a list under 'people:'")]
    if not isinstance(items, list):
        line = seq.start_mark.line + 1 if seq is not None else 1
        return [], problems + [Problem(line, "'people' must be a list of entries")]
    lines = [n.start_mark.line + 1 for n in seq.value] if isinstance(seq, yaml.SequenceNode) else []
    rows = [(lines[i] if i < len(lines) else None, item) for i, item in enumerate(items)]
    return rows, problems


def _rows_from_json(text: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(exc.lineno, f"not valid JSON: {exc.msg}")]
    if isinstance(data, dict):
        problems = [Problem(1, f"unknown top-level key {k!r} (only 'people' is read)") for k in data if k != "people"]
        if "people" not in data:
            return [], [Problem(1, "expected an object with a list under \"people\"")]
        items = data["people"]
    elif isinstance(data, list):
        items, problems = data, []
    else:
        return [], [Problem(1, "expected an object with a list under \"people\"")]
    if not isinstance(items, list):
        return [], problems + [Problem(1, "\"people\" must be a list of entries")]
    starts = _json_item_lines(text, isinstance(data, dict))
    rows = [(starts[i] if i < len(starts) else None, item) for i, item in enumerate(items)]
    return rows, problems


def _json_item_lines(text: str, wrapped: bool) -> list[int]:
    """Line numbers where each element of the people array starts (best effort)."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"\s*")

    def skip(pos: int) -> int:
        return ws.match(text, pos).end()

    def array_lines(pos: int) -> list[int]:
        out: list[int] = []
        pos = skip(pos + 1)
        if text[pos] == "]":
            return out
        while True:
            pos = skip(pos)
            out.append(text.count("\n", 0, pos) + 1)
            _, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if text[pos] != ",":
                return out
            pos += 1

    try:
        pos = skip(0)
        if not wrapped:
            return array_lines(pos)
        pos = skip(pos + 1)  # past "{"
        while text[pos] != "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = skip(skip(pos) + 1)  # past ":"
            if key == "people" and text[pos] == "[":
                return array_lines(pos)
            _, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if text[pos] == ",":
                pos = skip(pos + 1)
    except (ValueError, IndexError):
        pass
    return []


def _rows_from_csv(text: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [Problem(1, f"not valid CSV: {exc}")]
    if not header or not any(h.strip() for h in header):
        return [], [Problem(1, "the file is empty; expected a header row with " + ", ".join(COLUMNS))]
    names = [h.strip().lower() for h in header]
    problems: list[Problem] = []
    for name in names:
        if name and name not in COLUMNS:
            problems.append(Problem(1, f"unknown column {name!r} (columns are: {', '.join(COLUMNS)})"))
    if names.count("email") != 1 or "name" not in names:
        problems.append(Problem(1, "the header must have the columns 'email' and 'name'"))
    rows: list[tuple[int, Any]] = []
    last = reader.line_num
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(names):
                problems.append(Problem(start, f"{len(cells)} cells but the header has {len(names)} columns"))
            entry = {n: c for n, c in zip(names, cells) if n and n in COLUMNS}
            rows.append((start, entry))
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, f"not valid CSV: {exc}"))
    return rows, problems


def _format_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "json"
    return "yaml" if re.match(r"^\s*(people\s*:|-\s)", text) else "csv"


# -- validation ----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_text(text: str, *, source: str, fmt: str, catalog: Catalog | None) -> OrgReport:
    """Read and validate organisation data given as text (fmt: 'yaml', 'json' or 'csv')."""
    reader = {"yaml": _rows_from_yaml, "json": _rows_from_json, "csv": _rows_from_csv}[fmt]
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
    return parse_text(text, source=str(path), fmt=_format_of(path, text), catalog=catalog)


def load_directory(path: str | Path, catalog: Catalog | None) -> Directory:
    """The directory from a file; raises OrgFileError listing every problem."""
    stamp = file_stamp(path)
    report = read_org_file(path, catalog)
    for warning in report.warnings:
        log.warning("%s", warning.format(report.source))
    directory = report.directory()
    directory.stamp = stamp
    return directory


def load_directory_for(settings, catalog: Catalog) -> Directory:
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


# -- hot reload ----------------------------------------------------------------------------------
class OrgWatcher:
    """Reloads the organisation file when it changes; a bad file never replaces the last good one."""

    def __init__(self, coach, path: str | Path) -> None:
        self.coach = coach
        self.path = Path(path)
        self.stamp = getattr(coach.directory, "stamp", None) if coach.directory.source == str(self.path) else None
        self.missing_logged = False

    def check(self) -> bool | None:
        """Look once: True when a new directory was installed, False when the file changed but is bad,
        None when nothing changed."""
        found = self.read_if_changed()
        return None if found is None else self.install(found)

    def read_if_changed(self) -> Directory | bool | None:
        """Read the file if it changed (blocking IO: run it in a thread): a valid new Directory, False
        when the changed file is not valid (logged), None when nothing changed."""
        stamp = file_stamp(self.path)
        if stamp is None:
            if not self.missing_logged:
                log.error("organisation file %s cannot be read; keeping the current directory (%d people)",
                          self.path, len(self.coach.directory))
                self.missing_logged = True
            return None
        self.missing_logged = False
        if stamp == self.stamp:
            return None
        self.stamp = stamp
        report = read_org_file(self.path, self.coach.catalog)
        if not report.ok:
            log.error(
                "organisation file %s changed but is not valid; keeping the previous directory (%d people). "
                "%d problem(s):\n%s", self.path, len(self.coach.directory), len(report.problems),
                "\n".join(p.format(report.source) for p in report.problems[:50]),
            )
            return False
        for warning in report.warnings:
            log.warning("%s", warning.format(report.source))
        directory = report.directory()
        directory.stamp = stamp
        return directory

    def install(self, found: Directory | bool) -> bool:
        if found is False or not isinstance(found, Directory):
            return False
        self.coach.set_directory(found)
        log.info("organisation file %s reloaded: %d people", self.path, len(found))
        return True


async def watch_org_file(coach, *, interval: float | None = None) -> None:
    """Background task: poll SKILLCOACH_ORG every few seconds and reload it when it changed (the file is
    read in a thread; the new directory is installed on the event loop)."""
    path = coach.settings.org_file
    if not path:
        return
    watcher = OrgWatcher(coach, path)
    interval = interval or float(getattr(coach.settings, "org_poll_seconds", POLL_SECONDS))
    while True:
        try:
            found = await asyncio.to_thread(watcher.read_if_changed)
            if found is not None:
                watcher.install(found)
        except Exception:  # never let a reload bug stop the watcher; the old directory stays
            log.exception("organisation file reload failed; keeping the current directory")
        await asyncio.sleep(interval)


# -- identity: reaching an organisation person on a platform ----------------------------------------
async def platform_user_id(coach, person: Person, platform: str, *, before_lookup=None) -> str | None:
    """The platform user id of `person`: from the file, else looked up by email (cached in the store).

    `before_lookup`, if given, is awaited right before a call to the platform (to pace lookups)."""
    if platform == "slack" and person.slack_id:
        return person.slack_id
    if platform == "teams" and person.teams_id:
        return person.teams_id
    return await user_id_for_email(coach, person.email, platform, before_lookup=before_lookup)


async def user_id_for_email(coach, email: str, platform: str, *, before_lookup=None) -> str | None:
    from bot.delivery import DeliveryError

    key = f"{platform}:{email.lower()}"
    cached = await coach.store.get(IDENTITIES, key)
    now = coach.clock()
    if cached is not None:
        if cached.data.get("user_id"):
            return cached.data["user_id"]
        if now - float(cached.data.get("at", 0)) < NEGATIVE_TTL:
            return None
    messenger = coach.messengers.get(platform)
    if messenger is None:
        return None
    if before_lookup is not None:
        await before_lookup()
    try:
        user_id = await messenger.lookup_email(email)
    except DeliveryError:
        raise
    except Exception as exc:  # a lookup failure is "not known now", not a crash
        log.warning("looking up %s on %s failed: %s", email, platform, exc)
        return None
    await coach.store.put(IDENTITIES, key, {"user_id": user_id, "at": now})
    if user_id:
        await coach.store.put(IDENTITIES, f"{platform}#{user_id}", {"email": email.lower(), "at": now})
    return user_id


async def remember_identity(coach, platform: str, email: str | None, user_id: str) -> None:
    """Record that `email` is `user_id` on `platform` (seen in a chat)."""
    if not email or not user_id:
        return
    key = f"{platform}:{email.lower()}"
    current = await coach.store.get(IDENTITIES, key)
    if current is None or current.data.get("user_id") != user_id:
        await coach.store.put(IDENTITIES, key, {"user_id": user_id, "at": coach.clock()})
        await coach.store.put(IDENTITIES, f"{platform}#{user_id}", {"email": email.lower(), "at": coach.clock()})


async def person_of(coach, incoming, person: Person | None = None) -> Person | None:
    """The organisation person behind an Incoming: by platform id or email, else by a remembered email."""
    if person is not None:
        return person
    email = await email_of(coach, incoming)
    return coach.directory.by_email(email)


async def email_of(coach, incoming) -> str | None:
    """The email of the user behind an Incoming: the file, the adapter, the profile, or a past lookup."""
    person = coach.person_for(incoming)
    if person is not None:
        return person.email
    if incoming.email:
        return incoming.email.lower()
    from bot.store import PROFILES

    profile = await coach.store.get(PROFILES, incoming.user_key)
    if profile is not None and profile.data.get("email"):
        return str(profile.data["email"]).lower()
    known = await coach.store.get(IDENTITIES, f"{incoming.platform}#{incoming.user_id}")
    return known.data.get("email") if known else None


# -- managers: who may act for which team ---------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """Who sent a manager command: their email (if known), display name, and powers."""

    email: str | None
    name: str
    is_admin: bool
    is_manager: bool

    @property
    def may_manage(self) -> bool:
        return self.is_admin or self.is_manager


def caller_of(coach, incoming, person: Person | None) -> Caller:
    email = (person.email if person else (incoming.email or "")).lower() or None
    name = (person.name if person else None) or incoming.name or "Your manager"
    return Caller(email, name, bool(email) and email in coach.settings.admin_emails,
                  coach.directory.is_manager(email))


def team_for(coach, caller: Caller, *, whole_tree: bool) -> list[Person]:
    """The people a caller may act for: their reports (their whole reporting tree with `whole_tree`);
    an admin with `whole_tree` gets the whole organisation."""
    if whole_tree and caller.is_admin:
        return sorted((p for p in coach.directory.people.values() if p.email != caller.email),
                      key=lambda p: p.email)
    if caller.email and coach.directory.is_manager(caller.email):
        return coach.directory.reports_of(caller.email, recursive=whole_tree)
    return []


# -- `skillcoach org check` ----------------------------------------------------------------------
def check_file(settings, path: str, say) -> int:
    """Every problem of an organisation file as FILE:LINE: problem, then a summary, through `say`
    (the CLI prints it); 0 when the file is valid, 1 otherwise."""
    from bot.catalog import load_catalog
    from bot.errors import CatalogError

    try:
        catalog = load_catalog(settings.extra_catalog_dirs)
    except CatalogError as exc:
        say(f"warning: catalog not loaded, skills are not matched: {exc}")
        catalog = None
    report = read_org_file(path, catalog)
    for problem in report.problems:
        say(problem.format(report.source))
    for warning in report.warnings:
        say(f"{warning.format(report.source)} (warning)")
    if report.ok:
        directory = Directory.of(report.people, report.source)
        managers = sum(1 for p in report.people if directory.is_manager(p.email))
        helpers = sum(1 for p in report.people if p.offers)
        say(f"{report.source}: OK — {len(report.people)} people, {managers} managers, "
            f"{helpers} offering help, {len(report.warnings)} warning(s)")
        return 0
    say(f"{report.source}: {len(report.problems)} problem(s), {len(report.warnings)} warning(s); "
        "the file was not accepted")
    return 1
