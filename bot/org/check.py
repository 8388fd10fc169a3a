"""`skillcoach org check FILE`: an organisation file read the way the server reads it, with every problem
and warning and, when it is valid, what it holds. Returns data; `bot.cli` prints it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalog import load_catalog
from bot.errors import CatalogError
from bot.org.file import OrgReport, read_org_file
from bot.people import Directory
from bot.settings import Settings


@dataclass(frozen=True)
class OrgCheck:
    """The outcome of checking a file: the report, why the catalog could not be loaded (skills are then
    not matched), and for a valid file how many of its people are managers and how many offer help."""

    report: OrgReport
    catalog_problem: str | None = None
    managers: int = 0
    helpers: int = 0

    @property
    def ok(self) -> bool:
        return self.report.ok


def check_file(settings: Settings, path: str) -> OrgCheck:
    """Read and validate the organisation file at `path`, matching its skills to the catalog."""
    try:
        catalog = load_catalog(settings.extra_catalog_dirs)
        catalog_problem = None
    except CatalogError as exc:
        catalog, catalog_problem = None, str(exc)
    report = read_org_file(path, catalog)
    if not report.ok:
        return OrgCheck(report, catalog_problem)
    directory = Directory.of(report.people, report.source)
    managers = sum(1 for p in report.people if directory.is_manager(p.email))
    helpers = sum(1 for p in report.people if p.offers)
    return OrgCheck(report, catalog_problem, managers, helpers)
