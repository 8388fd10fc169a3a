"""`skillcoach teams-package --app-id ID [--out FILE] [--domain HOST]`: the zip admins upload to Teams.

It takes `manifest/teams/manifest.json` and both icons, fills in the Microsoft App ID (the manifest `id`
and `bots[0].botId`) and the bot's host name (`validDomains`), checks the manifest's required fields,
limits and icon sizes, and writes manifest.json, color.png and outline.png at the root of the zip.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HOST = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:\d+)?$")
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
PLACEHOLDER_HOST = "example.com"
SCOPES = {"personal", "team", "groupChat"}


def png_info(data: bytes) -> tuple[int, int, int]:
    """(width, height, colour type) of a PNG; raises ValueError if it is not one."""
    if len(data) < 33 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height, data[25]


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def check_manifest(manifest: dict[str, Any], icons: dict[str, bytes]) -> list[str]:
    """Every problem that would make Teams refuse the package (empty when it is fine)."""
    problems: list[str] = []
    for field in ("manifestVersion", "version", "id", "developer.name", "developer.websiteUrl",
                  "developer.privacyUrl", "developer.termsOfUseUrl", "name.short", "name.full",
                  "description.short", "description.full", "icons.color", "icons.outline", "accentColor"):
        value = _get(manifest, field)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{field} is required")
    for field in ("developer.websiteUrl", "developer.privacyUrl", "developer.termsOfUseUrl"):
        value = _get(manifest, field)
        if isinstance(value, str) and value and not value.startswith("https://"):
            problems.append(f"{field} must be an https:// URL")
    if not GUID.match(str(manifest.get("id", ""))):
        problems.append("id must be the Microsoft App ID (a GUID)")
    if not re.match(r"^\d+\.\d+\.\d+$", str(manifest.get("version", ""))):
        problems.append("version must look like 1.0.0")
    if not re.match(r"^#[0-9A-Fa-f]{6}$", str(manifest.get("accentColor", ""))):
        problems.append("accentColor must be a #RRGGBB colour")
    for field, limit in (("name.short", 30), ("name.full", 100), ("description.short", 80),
                         ("description.full", 4000)):
        value = _get(manifest, field)
        if isinstance(value, str) and len(value) > limit:
            problems.append(f"{field} is longer than {limit} characters")
    bots = manifest.get("bots")
    if not isinstance(bots, list) or len(bots) != 1 or not isinstance(bots[0], dict):
        problems.append("bots must hold exactly one bot")
    else:
        bot = bots[0]
        if bot.get("botId") != manifest.get("id"):
            problems.append("bots[0].botId must be the app id")
        scopes = bot.get("scopes")
        if not isinstance(scopes, list) or not scopes or not set(scopes) <= SCOPES:
            problems.append(f"bots[0].scopes must be some of {sorted(SCOPES)}")
        elif "personal" not in scopes or "team" not in scopes:
            problems.append("bots[0].scopes must include personal and team")
        lists = bot.get("commandLists") or []
        if not isinstance(lists, list) or len(lists) > 3:
            problems.append("bots[0].commandLists: at most 3 lists")
            lists = []
        seen_scopes: set[str] = set()
        for i, command_list in enumerate(lists):
            where = f"bots[0].commandLists[{i}]"
            list_scopes = set(command_list.get("scopes") or [])
            if not list_scopes or not list_scopes <= set(scopes or []):
                problems.append(f"{where}.scopes must be among the bot's scopes")
            if list_scopes & seen_scopes:
                problems.append(f"{where}: a scope may have only one command list")
            seen_scopes |= list_scopes
            commands = command_list.get("commands") or []
            if not commands or len(commands) > 10:
                problems.append(f"{where}: between 1 and 10 commands per scope")
            for command in commands:
                title, description = command.get("title"), command.get("description")
                if not isinstance(title, str) or not 0 < len(title) <= 32:
                    problems.append(f"{where}: command title {title!r} must be 1-32 characters")
                if not isinstance(description, str) or not 0 < len(description) <= 128:
                    problems.append(f"{where}: command {title!r} needs a description of at most 128 characters")
    domains = manifest.get("validDomains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) and HOST.match(d) for d in domains):
        problems.append("validDomains must be host names (no scheme, no path)")
    for kind, (width, height) in ICON_SIZES.items():
        data = icons.get(kind)
        if data is None:
            problems.append(f"icons.{kind}: file missing")
            continue
        try:
            w, h, colour_type = png_info(data)
        except ValueError:
            problems.append(f"icons.{kind} is not a PNG")
            continue
        if (w, h) != (width, height):
            problems.append(f"icons.{kind} must be {width}×{height} pixels, not {w}×{h}")
        if kind == "outline" and colour_type not in (4, 6):
            problems.append("icons.outline must have a transparent background (a PNG with alpha)")
    return problems


def normalise_domain(domain: str) -> str:
    domain = domain.strip()
    domain = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", domain)
    return domain.split("/", 1)[0]


def build_package(app_id: str, out: Path, *, domain: str = "", source: Path = MANIFEST_DIR) -> dict[str, Any]:
    """Write the zip; returns the manifest written. Raises ConfigError listing every problem."""
    app_id = app_id.strip()
    if not GUID.match(app_id):
        raise ConfigError(f"--app-id must be the bot's Microsoft App ID (a GUID), not {app_id!r}")
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the Teams manifest template {source / 'manifest.json'}: {exc}") from exc
    manifest["id"] = app_id
    if isinstance(manifest.get("bots"), list) and manifest["bots"] and isinstance(manifest["bots"][0], dict):
        manifest["bots"][0]["botId"] = app_id
    if domain:
        manifest["validDomains"] = [normalise_domain(domain)]
    icons: dict[str, bytes] = {}
    for kind in ICON_SIZES:
        name = _get(manifest, f"icons.{kind}")
        if isinstance(name, str) and (source / name).is_file():
            icons[kind] = (source / name).read_bytes()
    problems = check_manifest(manifest, icons)
    if problems:
        raise ConfigError("the Teams manifest has problems:\n  " + "\n  ".join(problems))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for kind, data in icons.items():
            zf.writestr(manifest["icons"][kind], data)
    return manifest


def placeholders(manifest: dict[str, Any]) -> list[str]:
    """Fields the admin still has to fill in (they only warn: the package works for a trial)."""
    left = [f for f in ("developer.websiteUrl", "developer.privacyUrl", "developer.termsOfUseUrl")
            if PLACEHOLDER_HOST in str(_get(manifest, f))]
    if "(fill in)" in str(_get(manifest, "developer.name")):
        left.append("developer.name")
    if any(PLACEHOLDER_HOST in d for d in manifest.get("validDomains", [])):
        left.append("validDomains (use --domain)")
    return left


def package_command(args: Any) -> tuple[Path, dict[str, Any], list[str]]:
    """`skillcoach teams-package`: the zip written, its manifest, and the placeholders still to fill in."""
    out = Path(args.out or "skillcoach-teams.zip")
    manifest = build_package(args.app_id, out, domain=getattr(args, "domain", "") or "")
    return out, manifest, placeholders(manifest)
