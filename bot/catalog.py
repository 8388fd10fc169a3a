"""The catalog: job families, roles, skills and learning options, loaded from YAML and validated.

Layout of a catalog folder (the default one ships in `bot/catalog_data/`; an organisation adds its
own folders with SKILLCOACH_CATALOG, and an entry with an id already loaded replaces it):

    families.yaml    families:  [{id, name, trending: [skill ids], associations: [{name, url, description}]}]
    skills.yaml      skills:    [{id, name, aliases: [..], transferable: bool, description}]
    roles/*.yaml     roles:     [{id, title, family, alt_titles: [..], skills: {skill id: weight 1-5},
                                  adjacent: [role ids], description,
                                  level: 1-5 (optional: preparation the job needs, as O*NET job zones)}]
    learning.yaml    learning:  [{id, title, provider, type, hours, skills: [skill ids], url, cost,
                                  families: [family ids] (optional: offered only in those fields' plans),
                                  roles: [role ids] (optional: made for those roles: offered only in their
                                  plans, and before other options of their kind there),
                                  entry: true (optional: a route into the role, such as the licence or
                                  qualification people in it already hold: offered only to someone moving
                                  into a role, not to someone growing in theirs)}]

Any file may hold any of the four lists; files are read in name order. A file is YAML (`.yaml`, `.yml`)
or JSON (`.json`) of the same shape: `skillcoach catalog import` writes JSON, which reads in a fraction of
the time YAML takes at the size of a whole taxonomy. A broken file raises `CatalogError` naming the file,
the entry and the problem.

A loaded catalog is kept as a snapshot (the validated entries, pickled) keyed by a hash of every file's
bytes and of this module's code, in an imported folder's `.index/` or, for other catalogs, in the user's
cache folder (`$XDG_CACHE_HOME/skillcoach`, else `~/.cache/skillcoach`): a start with the same files reads
it instead of parsing and validating them again. Changed files, changed code, or a snapshot that cannot
be read are noticed with one log line and the files are read as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import CatalogError
from bot.taxonomy.filecache import ParsedFiles, cache_location, prune, read_pickle, write_atomically

DEFAULT_DIR = Path(__file__).parent / "catalog_data"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it
SUFFIXES = (".yaml", ".yml", ".json")
IMPORT_MARKER = ".skillcoach-import.json"  # in a folder written by `skillcoach catalog import`
INDEX_DIR = ".index"                       # its stored parse results and matching indexes
SNAPSHOT_VERSION = 2
KEEP_CACHED = 6  # catalogs (sets of folders) kept in the user's cache folder, the most recent ones
log = logging.getLogger("skillcoach.catalog")
LEARNING_TYPES = ("course", "certification", "book", "workshop", "practice", "community", "program")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("id", check_fields=False)
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not v or not all(ch.isalnum() or ch in "-_" for ch in v) or v != v.lower():
            raise ValueError("ids are lower-case letters, digits, '-' and '_'")
        return v


class Association(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=2)
    url: str = ""
    description: str = ""


class Family(_Entry):
    id: str
    name: str = Field(min_length=2)
    trending: list[str] = Field(default_factory=list)
    associations: list[Association] = Field(default_factory=list)


class Skill(_Entry):
    id: str
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    transferable: bool = False
    description: str = ""


class Role(_Entry):
    id: str
    title: str = Field(min_length=2)
    family: str
    alt_titles: list[str] = Field(default_factory=list)
    skills: dict[str, int] = Field(min_length=1)
    adjacent: list[str] = Field(default_factory=list)
    description: str = ""
    level: int | None = Field(default=None, ge=1, le=5)  # preparation: 1 little .. 5 extensive (job zone)

    @field_validator("skills")
    @classmethod
    def _weights(cls, v: dict[str, int]) -> dict[str, int]:
        for skill, weight in v.items():
            if not 1 <= weight <= 5:
                raise ValueError(f"skill {skill!r} has weight {weight}; weights are 1 (useful) to 5 (essential)")
        return v


class LearningOption(_Entry):
    id: str
    title: str = Field(min_length=2)
    provider: str = Field(min_length=1)
    type: Literal["course", "certification", "book", "workshop", "practice", "community", "program"]
    hours: float = Field(gt=0, le=2000)
    skills: list[str] = Field(min_length=1)
    url: str = ""
    cost: Literal["free", "paid", "employer", ""] = ""
    families: list[str] = Field(default_factory=list)  # offered only in these fields' plans (empty: any)
    roles: list[str] = Field(default_factory=list)  # made for these roles: their plans only, first of its kind
    entry: bool = False  # a route into the field's roles (a licence or qualification people in them hold):
    # offered to someone moving into a role, never to someone growing in the role they have


_KINDS: dict[str, type[_Entry]] = {
    "families": Family, "skills": Skill, "roles": Role, "learning": LearningOption,
}


@dataclass
class Catalog:
    families: dict[str, Family] = field(default_factory=dict)
    skills: dict[str, Skill] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    learning: dict[str, LearningOption] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) -> file
    by_skill: dict[str, list[LearningOption]] = field(default_factory=dict)
    folders: list[Path] = field(default_factory=list)  # the folders loaded, in order
    indexes: dict[str, object] = field(default_factory=dict, repr=False)  # built matching state, shared
    key: str = ""  # the hash of the files (and code) it was loaded from; "" when made in code

    def skill_name(self, skill_id: str) -> str:
        skill = self.skills.get(skill_id)
        return skill.name if skill else skill_id.replace("-", " ")

    def family_name(self, family_id: str) -> str:
        family = self.families.get(family_id)
        return family.name if family else family_id

    def options_for(self, skill_id: str) -> list[LearningOption]:
        return self.by_skill.get(skill_id, [])

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in _KINDS}


def _parse(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}: not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read: {exc}") from None


def _load_file(path: Path, catalog: Catalog, parsed: ParsedFiles | None = None) -> None:
    raw = parsed.raw(path, CatalogError) if parsed is not None else _parse(path)
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping with any of {sorted(_KINDS)} at the top level")
    unknown = set(raw) - set(_KINDS)
    if unknown:
        raise CatalogError(f"{path}: unknown top-level key(s) {sorted(unknown)}; expected {sorted(_KINDS)}")
    for kind, model in _KINDS.items():
        entries = raw.get(kind)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise CatalogError(f"{path}: '{kind}' must be a list")
        seen_here: set[str] = set()
        for index, entry in enumerate(entries):
            label = entry.get("id") if isinstance(entry, dict) and entry.get("id") else f"#{index + 1}"
            if not isinstance(entry, dict):
                raise CatalogError(f"{path}: {kind} entry {label}: expected a mapping, got {type(entry).__name__}")
            try:
                item = model.model_validate(entry)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors()
                )
                raise CatalogError(f"{path}: {kind} entry {label}: {problems}") from None
            if item.id in seen_here:
                raise CatalogError(f"{path}: {kind} entry {item.id}: the id appears twice in this file")
            seen_here.add(item.id)
            getattr(catalog, kind)[item.id] = item
            catalog.sources[(kind, item.id)] = str(path)


def _check_references(catalog: Catalog) -> None:
    def where(kind: str, item_id: str) -> str:
        return f"{catalog.sources.get((kind, item_id), '?')}: {kind} entry {item_id}"

    for family in catalog.families.values():
        for skill in family.trending:
            if skill not in catalog.skills:
                raise CatalogError(f"{where('families', family.id)}: trending skill {skill!r} is not in the skills list")
    for role in catalog.roles.values():
        if role.family not in catalog.families:
            raise CatalogError(f"{where('roles', role.id)}: family {role.family!r} is not defined")
        for skill in role.skills:
            if skill not in catalog.skills:
                raise CatalogError(f"{where('roles', role.id)}: skill {skill!r} is not in the skills list")
        for other in role.adjacent:
            if other not in catalog.roles:
                raise CatalogError(f"{where('roles', role.id)}: adjacent role {other!r} is not defined")
    for option in catalog.learning.values():
        for skill in option.skills:
            if skill not in catalog.skills:
                raise CatalogError(f"{where('learning', option.id)}: skill {skill!r} is not in the skills list")
        for family in option.families:
            if family not in catalog.families:
                raise CatalogError(f"{where('learning', option.id)}: family {family!r} is not defined")
        for role_id in option.roles:
            if role_id not in catalog.roles:
                raise CatalogError(f"{where('learning', option.id)}: role {role_id!r} is not defined")


class _Snapshot:
    """The validated catalog of these files, kept beside them (see the module's docstring)."""

    def __init__(self, listing: list[tuple[Path, list[Path]]]) -> None:
        self.dirs = [base.resolve() for base, _ in listing]
        folder, prefix = cache_location(self.dirs, IMPORT_MARKER, INDEX_DIR)
        self.path = folder / f"{prefix}catalog.pickle" if folder is not None else None
        self.shared = prefix != ""
        digest = hashlib.sha256(f"v{SNAPSHOT_VERSION} pydantic {pydantic.VERSION}".encode())
        self.key = ""
        try:
            digest.update(Path(__file__).read_bytes())
            for n, (base, files) in enumerate(listing):
                for path in files:
                    data = path.read_bytes()
                    digest.update(f"\0{n}\0{path.relative_to(base) if path != base else ''}\0{len(data)}\0".encode())
                    digest.update(data)
            self.key = digest.hexdigest()
        except OSError:
            pass  # a file that cannot be read: reading the files says which, as a CatalogError

    def read(self) -> Catalog | None:
        if not self.key or self.path is None:
            return None
        stored = read_pickle(self.path, "catalog cache")
        if stored is None:
            return None
        if not isinstance(stored, dict) or not isinstance(stored.get("catalog"), Catalog):
            log.warning("catalog cache %s holds no catalog; building it again", self.path)
            return None
        if stored.get("key") != self.key:
            log.info("catalog files changed since %s was written; building it again", self.path)
            return None
        catalog: Catalog = stored["catalog"]
        catalog.folders = list(self.dirs)
        catalog.sources = {k: self._absolute(v) for k, v in catalog.sources.items()}
        catalog.key = self.key
        return catalog

    def write(self, catalog: Catalog) -> None:
        catalog.key = self.key
        if not self.key or self.path is None:
            return
        kept = Catalog(families=catalog.families, skills=catalog.skills, roles=catalog.roles,
                       learning=catalog.learning, by_skill=catalog.by_skill, key=self.key,
                       sources={k: self._relative(v) for k, v in catalog.sources.items()})
        write_atomically(self.path, {"key": self.key, "catalog": kept})
        if self.shared:
            prune(self.path.parent, KEEP_CACHED)

    def _relative(self, source: str) -> str:
        path = Path(source).resolve()
        for n, base in enumerate(self.dirs):
            if path == base or base in path.parents:
                return f"{n}:{path.relative_to(base) if path != base else ''}"
        return source

    def _absolute(self, source: str) -> str:
        n, _, rest = source.partition(":")
        if not n.isdigit() or int(n) >= len(self.dirs):
            return source
        return str(self.dirs[int(n)] / rest) if rest else str(self.dirs[int(n)])


def _files_of(base: Path) -> list[Path]:
    if base.is_file():
        return [base]
    if base.is_dir():
        # hidden files and folders (an import's .index/ and marker) are not catalog files
        return sorted(p for p in base.rglob("*") if p.suffix in SUFFIXES
                      and not any(part.startswith(".") for part in p.relative_to(base).parts))
    raise CatalogError(f"{base}: catalog folder does not exist")


def load_catalog(extra_dirs: list[Path] | tuple[Path, ...] = (), *, include_default: bool = True) -> Catalog:
    """Load the default catalog and then each extra folder (or file) in order; validate everything."""
    dirs = ([DEFAULT_DIR] if include_default else []) + [Path(d) for d in extra_dirs]
    listing = [(base, _files_of(base)) for base in dirs]
    snapshot = _Snapshot(listing)
    cached = snapshot.read()
    if cached is not None:
        return cached
    catalog = Catalog()
    parsed = ParsedFiles(dirs, _parse, IMPORT_MARKER, INDEX_DIR)
    seen: set[str] = set()
    for base, files in listing:
        for path in files:
            _load_file(path, catalog, parsed)
            seen.add(str(path.resolve()))
        catalog.folders.append(base.resolve())
    _check_references(catalog)
    parsed.save(seen)
    for option in catalog.learning.values():
        for skill in option.skills:
            catalog.by_skill.setdefault(skill, []).append(option)
    for options in catalog.by_skill.values():
        options.sort(key=lambda o: (o.hours, o.id))
    snapshot.write(catalog)
    return catalog
