"""The team report: `/team-skills` (Slack) and `team skills` (Teams).

An aggregate, privacy-preserving picture of where a manager's team is growing, over the reports who
agreed to share (`consent_share` in their profile, asked in the interview, changeable any time):
how many have a plan, upskill vs reskill, the skills most being built, how many found a mentor or a
shadowing host (an accepted introduction), and plan progress.

Privacy rules (k = `settings.min_group_size`, default 5):
* shown only when at least k people are in the group; otherwise the reply says so and shows nothing
  more — not even how many agreed;
* never a name, an answer or a goal of one person: counts only;
* every figure splits the group into parts (with a plan / without; upskilling / reskilling / no plan;
  found help / not; finished a skill / not; building a skill / not). A figure's numbers are shown only
  when every one of its parts holds at least k people; otherwise every part of it reads "not shown",
  so neither a small part nor its complement can be worked out (complementary suppression). A skill
  is listed only when k or more people build it, with its count only when k or more people do not;
  the skills-done total is shown only when the progress split is;
* scopes: a scope whose consenting people differ from a larger scope the caller may ask for (their
  reporting tree, an admin's organisation) by fewer than k is not shown; the larger one is shown
  instead, so two reports can never be subtracted to single out a few people.

The card carries a bar chart of the top skills (a PNG drawn here with the standard library, kept in the
store and served by the app at ``GET /charts/<token>.png``) when a public base URL is configured
(``settings.public_url``) and at least two skills are listed; `add_routes(app)` mounts that route.

Scope: direct reports by default, the whole reporting tree with `--all` (an admin with `--all`: the
whole organisation). The counts come from the caller's snapshot (`bot/snapshot.py`), taken once per
period rather than on each request, so two reports cannot be subtracted to see one person's change;
the card says when its figures were taken.
"""

from __future__ import annotations

import base64
import logging
import re
import struct
import time
import uuid
import zlib
from typing import Any

from bot.messages import Report as T
from bot.org import caller_of, person_of
from bot.people import Person
from bot.snapshot import TOP_SKILLS, available_scopes, period_seconds, snapshot_for
from bot.types import Card, CardSection, Incoming, Reply

log = logging.getLogger("skillcoach.report")


def held_back(k: int) -> str:
    return f"not shown (fewer than {k} on one side)"


def split(parts: list[int], k: int) -> list[str]:
    """A split of the group as it may be shown: its numbers when every part holds at least k people,
    else every part the same way (a number for one part would, with the group's size and the other
    parts, narrow down the small one)."""
    return [str(n) for n in parts] if all(n >= k for n in parts) else [held_back(k)] * len(parts)


def visible_figures(stats: dict[str, Any], k: int) -> dict[str, Any]:
    """Every figure the card shows, after the privacy rules (see the module's docstring)."""
    n = stats["group"]
    with_plan = stats["with_plan"]
    plan_split = split([with_plan, n - with_plan], k)
    path_split = split([stats["upskill"], stats["reskill"], n - with_plan], k)
    helped_split = split([stats["helped"], n - stats["helped"]], k)
    progress_split = split([stats["progressing"], n - stats["progressing"]], k)
    skills = []
    for name, count in stats["building"]:
        if count < k or len(skills) == TOP_SKILLS:
            break  # ranked by count: the rest are smaller still
        skills.append((name, str(count) if n - count >= k else f"{k} or more"))
    splits = (plan_split, path_split, helped_split, progress_split)
    return {
        "with_plan": plan_split[0], "upskill": path_split[0], "reskill": path_split[1],
        "helped": helped_split[0], "progressing": progress_split[0], "skills": skills,
        "skills_done": (stats["skills_done"], stats["skills_total"]) if progress_split[0].isdigit() else None,
        "held_back": any(not figure[0].isdigit() for figure in splits),
    }


def _of(value: str, n: int) -> str:
    return f"{value} of {n}" if value.isdigit() else value


def report_card(stats: dict[str, Any], scope_title: str, image_url: str | None = None, *, k: int = 5,
                note: str | None = None, fig: dict[str, Any] | None = None, when: str | None = None) -> Card:
    """The card of `stats`; `fig` is `visible_figures(stats, k)` when the caller has it already."""
    n = stats["group"]
    fig = fig or visible_figures(stats, k)
    if fig["skills_done"] is not None:
        done, total = fig["skills_done"]
        pct = round(100 * done / total) if total else 0
        skills_done = f"{done} of {total} ({pct}%)"
    else:
        skills_done = held_back(k)
    lines = tuple(f"• {name} — {count} people" for name, count in fig["skills"])
    sections = [
        CardSection("Plans", facts=(
            ("Have a plan", _of(fig["with_plan"], n)),
            ("Upskilling (growing in their role)", fig["upskill"]),
            ("Reskilling (moving to a new role)", fig["reskill"]),
        )),
        CardSection(
            "Skills most being built",
            lines=lines or (f"• No skill is being built by {k} or more people yet",),
        ),
        CardSection("Help from colleagues", facts=(
            ("Found a mentor, peer coach or shadowing host", _of(fig["helped"], n)),
        )),
        CardSection("Progress", facts=(
            ("Skills done", skills_done),
            ("People who finished at least one skill", _of(fig["progressing"], n)),
        )),
    ]
    notes = []
    if fig["held_back"]:
        notes.append(T.HELD_BACK.format(k=k))
    if note:
        notes.append(note)
    if notes:
        sections.append(CardSection("About these figures", lines=tuple(notes)))
    if when:
        sections.append(CardSection("When", lines=(when,)))
    return Card(
        title=f"Team skills — {scope_title}", summary=f"{n} people who agreed to share",
        sections=tuple(sections), image_url=image_url,
        image_alt="Bar chart of the skills most being built" if image_url else None, kind="report",
    )


async def team_skills_command(coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    text = (incoming.text or "").strip().lower()
    if text in ("help", "--help", "?"):
        return [Reply(T.HELP)]
    whole = "--all" in text.split() or text == "all"
    caller = caller_of(coach, incoming, await person_of(coach, incoming, person))
    if not caller.may_manage:
        return [Reply(T.NOT_A_MANAGER)]
    scopes = available_scopes(coach, caller)
    wanted = "tree" if whole else "team"
    if wanted not in scopes:
        wanted = "tree" if "tree" in scopes else "team"
    if not scopes.get(wanted):
        return [Reply(T.NO_TEAM)]
    minimum = int(coach.settings.min_group_size)
    snap = await snapshot_for(coach, caller)
    counted = snap["scopes"]
    chosen = scope_to_show(wanted, {name: counted[name]["group"] for name in counted}, snap.get("tree_adds", 0), minimum)
    note = T.SCOPE_WIDENED.format(k=minimum, asked=SCOPE_NAMES[caller.is_admin, wanted],
                                  shown=SCOPE_NAMES[caller.is_admin, chosen]) if chosen != wanted else None
    scope = SCOPE_NAMES[caller.is_admin, chosen]
    when = taken_line(coach, float(snap["taken_at"]), float(snap["period"]))
    stats = counted[chosen]
    if stats["group"] < minimum:
        return [Reply(T.TOO_FEW.format(min=minimum, scope=scope) + " " + when)]
    fig = visible_figures(stats, minimum)
    image_url = None
    try:
        image_url = await chart_url(coach, [(name, int(c)) for name, c in fig["skills"] if c.isdigit()])
    except Exception:  # the chart is a nicety: the report goes out without it
        log.exception("could not draw the team chart; sending the report without it")
    title = "the organisation" if scope == "your organisation" else scope
    card = report_card(stats, title, image_url, k=minimum, note=note, fig=fig, when=when)
    return [Reply(T.INTRO_TEXT.format(scope=scope), card=card)]


def _day(ts: float) -> str:
    return time.strftime("%a %d %b %Y", time.gmtime(ts)).replace(" 0", " ")


def taken_line(coach, taken_at: float, period: float) -> str:
    """When the figures were counted and when they are next (the card and the "too few" answer say it)."""
    stamp = time.strftime("%H:%M UTC", time.gmtime(taken_at))
    return T.TAKEN.format(day=_day(taken_at), time=stamp, every=_every(coach), next=_day(period + period_seconds(coach)))


def _every(coach) -> str:
    days = float(coach.settings.report_refresh_days)
    return {7.0: "once a week", 1.0: "once a day"}.get(days, f"every {days:g} days")


SCOPE_NAMES = {(False, "team"): "your team", (False, "tree"): "your reporting tree",
               (True, "team"): "your team", (True, "tree"): "your organisation"}


def scope_to_show(wanted: str, sharing: dict[str, int], tree_adds: int, k: int) -> str:
    """The asked-for scope, unless a larger available scope adds 1 … k-1 sharing people to it: then the
    larger one (shown alone, the two can never be subtracted). `sharing`: each scope's sharing people."""
    if wanted == "team" and "tree" in sharing and 0 < tree_adds < k:
        return "tree"
    return wanted


def register(coach) -> None:
    """Install `/team-skills` / `team skills` on a coach."""
    coach.command_handlers["team-skills"] = team_skills_command


# -- the chart -----------------------------------------------------------------------------------
CHARTS = "charts"                 # store collection: token -> {"png": base64, "created_at"}
CHART_TTL = 30 * 86400.0
_TOKEN = re.compile(r"^[0-9a-f]{32}$")

# a 5x7 pixel font: each glyph is 7 rows of 5 bits
_FONT_ROWS = {
    "A": "01110 10001 10001 11111 10001 10001 10001", "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110", "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111", "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111", "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110", "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001", "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001", "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101", "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110", "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110", "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010", "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100", "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    "-": "00000 00000 00000 11111 00000 00000 00000", ".": "00000 00000 00000 00000 00000 01100 01100",
    " ": "00000 00000 00000 00000 00000 00000 00000", "/": "00000 00001 00010 00100 01000 10000 00000",
    "+": "00000 00100 00100 11111 00100 00100 00000", "#": "01010 01010 11111 01010 11111 01010 01010",
    "(": "00010 00100 01000 01000 01000 00100 00010", ")": "01000 00100 00010 00010 00010 00100 01000",
    "&": "01100 10010 10100 01000 10101 10010 01101", ",": "00000 00000 00000 00000 01100 00100 01000",
    "?": "01110 10001 00001 00010 00100 00000 00100",
}
_FONT = {ch: [int(row, 2) for row in rows.split()] for ch, rows in _FONT_ROWS.items()}
_SCALE = 2
_BG, _BAR, _INK = (255, 255, 255), (74, 111, 165), (51, 51, 51)


def bar_chart_png(items: list[tuple[str, int]], *, title: str = "", width: int = 680) -> bytes:
    """A horizontal bar chart (label, bar, count per row) as PNG bytes, drawn with the standard library."""
    char_w, char_h, row_h, pad = 6 * _SCALE, 7 * _SCALE, 30, 12
    width = max(width, 200)
    label_chars = max(4, min(26, int(width * 0.45) // char_w))
    label_w = label_chars * char_w
    count_w = 4 * char_w
    bar_max = max(10, width - label_w - count_w - 3 * pad)
    first = 1 if title else 0
    height = pad * 2 + row_h * (len(items) + first)
    pixels = [bytearray(bytes(_BG) * width) for _ in range(height)]

    def dot(x: int, y: int, colour: tuple[int, int, int]) -> None:
        if 0 <= x < width and 0 <= y < height:
            pixels[y][3 * x:3 * x + 3] = bytes(colour)

    def text(x: int, y: int, value: str) -> None:
        for i, ch in enumerate(value.upper()):
            glyph = _FONT.get(ch, _FONT["?"])
            for row, bits in enumerate(glyph):
                for col in range(5):
                    if bits >> (4 - col) & 1:
                        for dy in range(_SCALE):
                            for dx in range(_SCALE):
                                dot(x + i * char_w + col * _SCALE + dx, y + row * _SCALE + dy, _INK)

    if title:
        text(pad, pad + (row_h - char_h) // 2, title)
    top = max((n for _, n in items), default=1) or 1
    for i, (label, count) in enumerate(items):
        y = pad + (i + first) * row_h
        short = label if len(label) <= label_chars - 1 else label[: label_chars - 2] + "."
        text(pad, y + (row_h - char_h) // 2, short)
        bar = max(2, round(bar_max * count / top))
        x0 = pad + label_w
        bar = max(0, min(bar, width - x0))
        for yy in range(y + 4, y + row_h - 4):
            pixels[yy][3 * x0:3 * (x0 + bar)] = bytes(_BAR) * bar  # same length: the row keeps its width
        text(x0 + bar + pad // 2, y + (row_h - char_h) // 2, str(count))

    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


async def chart_url(coach, top_skills: list[tuple[str, int]]) -> str | None:
    """Draw and keep the top-skills chart; its public URL, or None (no public URL, or too little to draw)."""
    base = str(getattr(coach.settings, "public_url", "") or "").rstrip("/")
    if not base or len(top_skills) < 2:
        return None
    token = uuid.uuid4().hex
    png = bar_chart_png([(name, count) for name, count in top_skills], title="Skills most being built (people)")
    await coach.store.put(CHARTS, token, {"png": base64.b64encode(png).decode("ascii"), "created_at": coach.clock()})
    return f"{base}/charts/{token}.png"


def add_routes(app, coach) -> None:
    """Mount `GET /charts/{token}.png` on the server app (call from `create_app`, with its coach)."""
    from aiohttp import web

    async def serve_chart(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not _TOKEN.match(token):
            raise web.HTTPNotFound()
        record = await coach.store.get(CHARTS, token)
        if record is None or coach.clock() - float(record.data.get("created_at", 0)) > CHART_TTL:
            raise web.HTTPNotFound()
        return web.Response(body=base64.b64decode(record.data["png"]), content_type="image/png",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.router.add_get("/charts/{token}.png", serve_chart)
