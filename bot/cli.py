"""The `skillcoach` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from bot.errors import SkillcoachError


def version() -> str:
    """The installed package's version; the one in pyproject.toml when running from a checkout."""
    from importlib import metadata

    try:
        return metadata.version("skillcoach")
    except metadata.PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def _settings():
    from pydantic import ValidationError

    from bot.settings import Settings, describe_errors

    try:
        return Settings()
    except ValidationError as exc:
        raise SkillcoachError(describe_errors(exc)) from None


def _setup_logging(level: str, fmt: str = "text") -> None:
    from bot.logs import setup_logging

    setup_logging(level, fmt)


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.console import run_console

    settings = _settings()
    _setup_logging("WARNING", settings.log_format)
    return asyncio.run(run_console(settings, user=args.user))


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.lifecycle import serve
    from bot.server import create_app

    settings = _settings()
    _setup_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    from adapters.teams import LISTEN_HOST

    app[LISTEN_HOST] = args.host  # Teams without an app id is served only on a loopback address
    return serve(app, host=args.host, port=args.port, stop_timeout=settings.stop_timeout,
                 access_log=logging.getLogger("skillcoach.access"))


def cmd_advise(args: argparse.Namespace) -> int:
    from bot.advise import run_advise

    return run_advise(_settings(), args)


def _printer(out=None):
    out = out or sys.stdout
    return lambda line: print(line, file=out)


def cmd_teams_package(args: argparse.Namespace) -> int:
    from adapters.teams.package import package_command

    path, manifest, left = package_command(args)
    print(f"wrote {path.resolve()} (Teams app {manifest['id']}, manifest {manifest['manifestVersion']})")
    if left:
        print("still placeholders in manifest/teams/manifest.json: " + ", ".join(left), file=sys.stderr)
    return 0


def run_check(settings, args: argparse.Namespace) -> int:
    """`skillcoach org check FILE` (args.out: where to print; stdout by default): every problem of the file
    as FILE:LINE: problem, then a summary; 0 when the file is valid, 1 otherwise."""
    from bot.org.check import check_file

    say = _printer(getattr(args, "out", None))
    result = check_file(settings, args.file)
    report = result.report
    if result.catalog_problem is not None:
        say(f"warning: catalog not loaded, skills are not matched: {result.catalog_problem}")
    for problem in report.problems:
        say(problem.format(report.source))
    for warning in report.warnings:
        say(f"{warning.format(report.source)} (warning)")
    if result.ok:
        say(f"{report.source}: OK — {len(report.people)} people, {result.managers} managers, "
            f"{result.helpers} offering help, {len(report.warnings)} warning(s)")
        return 0
    say(f"{report.source}: {len(report.problems)} problem(s), {len(report.warnings)} warning(s); "
        "the file was not accepted")
    return 1


def cmd_org_check(args: argparse.Namespace) -> int:
    return run_check(_settings(), args)


def run_db(settings, args: argparse.Namespace, out=None) -> int:
    """`skillcoach db upgrade|copy`."""
    from bot.store.admin import db_command

    return db_command(settings, args, _printer(out))


def cmd_db(args: argparse.Namespace) -> int:
    return run_db(_settings(), args)


def run_catalog_import(settings, args: argparse.Namespace, out=None) -> int:
    """`skillcoach catalog import onet|esco DIR --out FOLDER`."""
    from bot.taxonomy import run_import

    return run_import(settings, args, _printer(out))


def cmd_catalog_import(args: argparse.Namespace) -> int:
    return run_catalog_import(_settings(), args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skillcoach", description="A career-growth coach for Slack and Teams.")
    parser.add_argument("--version", action="version", version=f"skillcoach {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("chat", help="talk to the coach in the terminal (embedded store, no credentials)")
    p.add_argument("--user", default="local", help="who you are in the store (default: local)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser(
        "serve", help="run the web server for Slack and Teams",
        description="Run the web server for Slack and Teams. Teams (POST /api/messages) is mounted when "
                    "MicrosoftAppId is set (requests are JWT-checked). Without an app id it is not "
                    "authenticated, so it is mounted only when SKILLCOACH_TEAMS=local asks for it or the "
                    "server listens on a loopback address (--host 127.0.0.1, ::1 or localhost); "
                    "SKILLCOACH_TEAMS=false turns it off.")
    p.add_argument("--host", default="0.0.0.0",
                   help="address to listen on (default 0.0.0.0; Teams without an app id needs a loopback one "
                        "or SKILLCOACH_TEAMS=local)")
    p.add_argument("--port", type=int, default=3978)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("advise", help="run the recommender without the chat")
    p.add_argument("--role", required=True, help="current role, free text")
    p.add_argument("--skills", default="", help="skills you use with confidence, comma separated")
    p.add_argument("--goal", choices=("grow", "switch", "unsure"), default="grow")
    p.add_argument("--target", default="", help="the role to move to (with --goal switch)")
    p.add_argument("--hours", type=float, default=4.0, help="hours a week for learning")
    p.add_argument("--family", default="", help="the field (family id) of a role the catalog cannot place")
    p.add_argument("--json", action="store_true", help="print the whole plan as JSON")
    p.set_defaults(func=cmd_advise)

    p = sub.add_parser("teams-package", help="write the Teams app package (zip) with the app id filled in")
    p.add_argument("--app-id", required=True)
    p.add_argument("--out", default="skillcoach-teams.zip")
    p.add_argument("--domain", default="", help="the public host name of the bot (validDomains)")
    p.set_defaults(func=cmd_teams_package)

    p = sub.add_parser("org", help="organisation file tools")
    org_sub = p.add_subparsers(dest="org_command", required=True)
    c = org_sub.add_parser("check", help="validate an organisation file and report every problem")
    c.add_argument("file")
    c.set_defaults(func=cmd_org_check)

    p = sub.add_parser("db", help="database tools")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    u = db_sub.add_parser("upgrade", help="create or upgrade the PostgreSQL schema (DATABASE_URL)")
    u.set_defaults(func=cmd_db)
    c = db_sub.add_parser("copy", help="copy every record from one store to another")
    c.add_argument("--from", dest="source", required=True, help="tinydb:PATH or postgresql://…")
    c.add_argument("--to", dest="target", required=True, help="tinydb:PATH or postgresql://…")
    c.add_argument("--collection", dest="collections", action="append", default=[],
                   help="also copy this collection (repeatable; the user collections are always copied)")
    c.set_defaults(func=cmd_db)

    p = sub.add_parser("catalog", help="catalog tools")
    cat_sub = p.add_subparsers(dest="catalog_command", required=True)
    imp = cat_sub.add_parser(
        "import", help="turn a downloaded O*NET database or ESCO CSV release into catalog files",
        description="Turn a downloaded O*NET database (text files) or ESCO CSV release into catalog files "
                    "of the shipped shape; point SKILLCOACH_CATALOG at the folder written.")
    imp.add_argument("source", choices=("onet", "esco"))
    imp.add_argument("dir", help="the unzipped download's folder")
    imp.add_argument("--out", required=True, help="the folder to write (replaced when it holds an earlier import)")
    imp.add_argument("--language", default="en", help="ESCO: the language of the CSV files (default en)")
    imp.add_argument("--only", default="", metavar="CODES",
                     help="only these occupations: comma-separated codes or their leading part "
                          "(O*NET 15-1252.00 or 15-; ESCO 2654.1.7 or 2654)")
    imp.add_argument("--match-org", nargs="?", const="", default=None, metavar="ORGFILE",
                     help="only the occupations the organisation file's role titles match "
                          "(default file: SKILLCOACH_ORG)")
    imp.set_defaults(func=cmd_catalog_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader went away (`skillcoach advise … | head -1`): stop quietly. Point stdout at devnull so
        # the flush at interpreter exit cannot raise again (https://docs.python.org/3/library/signal.html).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except SkillcoachError as exc:
        print(f"skillcoach: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
