"""The team report's charts: PNGs drawn with matplotlib, kept in the store, served at `/charts/<token>.png`.

Privacy: the charts are drawn from `visible_figures(...)` (bot/report.py) and the group's size — what
the card shows already — never from the raw counts. A figure the card reads as "not shown" has no
chart, and a skill whose count is held back ("5 or more") has no bar.

Charts (each only when its figures are shown):
* the skills most being built — one bar per skill with a shown count, at least two;
* upskilling vs reskilling — people upskilling, reskilling and without a plan;
* plan progress — skills done vs still to do, people who finished a skill vs not yet.

matplotlib is imported inside the drawing function, so starting the server does not pay for it; it
draws with the Agg backend (no display) through its object API (no pyplot state), one chart at a
time in a worker thread. Labels use DejaVu Sans (shipped with matplotlib: Latin with accents, Greek,
Cyrillic, Hebrew, Arabic letters); fonts for other scripts (Noto Sans CJK, …) are used as fallbacks when
installed on the machine.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
import textwrap
import threading
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from bot.core import Coach
from bot.messages import Charts as T

CHARTS = "charts"                 # store collection: token -> {"png": base64, "created_at"}
CHART_TTL = 30 * 86400.0
_TOKEN = re.compile(r"^[0-9a-f]{32}$")

WIDTH_IN = 6.4                    # 960 px at DPI: wide enough for Slack's and Teams' full-width images
DPI = 150
FONT_PT = 11                      # ~23 px at 960 px wide: still ~11 px when a client shows it 460 px wide
LABEL_CHARS = 26                  # a label wraps at this width, onto two lines at most
FALLBACK_FONTS = ("Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans Devanagari",
                  "Noto Sans Thai", "Noto Sans Arabic", "Noto Sans Hebrew", "Droid Sans Fallback")
BAR, DONE, REST, INK, GRID = "#4a6fa5", "#3c8d5a", "#c9d3e0", "#333333", "#e6e6e6"

_drawing = threading.Lock()       # matplotlib's font cache and text layout are shared: one chart at a time
_fonts: list[str] | None = None
_missing_glyphs_logged = False
log = logging.getLogger("skillcoach.charts")


@dataclass(frozen=True)
class Bars:
    """A chart to draw: horizontal bars (`rows`: label, value), or stacked bars (`stacks`: label and
    its parts, each (part label, value)) — every value one the card already shows."""

    kind: str
    title: str
    alt: str
    rows: tuple[tuple[str, int], ...] = ()
    stacks: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()


def _shown(value: Any) -> int | None:
    """A figure as a number when the card shows it as one; None when it reads 'not shown'."""
    return int(value) if isinstance(value, str) and value.isdigit() else None


def charts_for(fig: dict[str, Any], group: int) -> list[Bars]:
    """The charts of a report, from its visible figures (`visible_figures`) and the group's size only."""
    out: list[Bars] = []
    skills = [(name, int(count)) for name, count in fig["skills"] if _shown(count) is not None]
    if len(skills) >= 2:
        out.append(Bars("skills", T.SKILLS_TITLE, T.SKILLS_ALT, rows=tuple(skills)))
    upskill, reskill, with_plan = _shown(fig["upskill"]), _shown(fig["reskill"]), _shown(fig["with_plan"])
    if upskill is not None and reskill is not None and with_plan is not None:
        rows = ((T.UPSKILLING, upskill), (T.RESKILLING, reskill), (T.NO_PLAN, group - with_plan))
        out.append(Bars("paths", T.PATHS_TITLE, T.PATHS_ALT, rows=rows))
    progressing = _shown(fig["progressing"])
    if progressing is not None:
        stacks = []
        if fig["skills_done"] is not None:
            done, total = fig["skills_done"]
            stacks.append((T.SKILLS_IN_PLANS.format(done=done, total=total),
                           ((T.DONE, done), (T.TO_DO, total - done))))
        stacks.append((T.PEOPLE.format(done=progressing, total=group),
                       ((T.FINISHED_ONE, progressing), (T.NOT_YET, group - progressing))))
        out.append(Bars("progress", T.PROGRESS_TITLE, T.PROGRESS_ALT, stacks=tuple(stacks)))
    return out


def _label(text: str) -> str:
    """A label on two lines at most (each line of `text` wrapped alone), the rest cut with an ellipsis."""
    lines = [part for line in text.splitlines() for part in (textwrap.wrap(line, LABEL_CHARS) or [""])]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), LABEL_CHARS, placeholder="…")]
    return "\n".join(lines)


def _font_family() -> list[str]:
    """DejaVu Sans, then the fallback fonts this machine has (asking for absent ones only adds warnings)."""
    global _fonts
    if _fonts is None:
        from matplotlib import font_manager

        installed = {f.name for f in font_manager.fontManager.ttflist}
        _fonts = ["DejaVu Sans", *[name for name in FALLBACK_FONTS if name in installed]]
    return _fonts


def draw(chart: Bars) -> bytes:
    """One chart as PNG bytes (matplotlib, Agg backend; imported here, not at start-up)."""
    with _drawing, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = _draw(chart)
    global _missing_glyphs_logged
    if not _missing_glyphs_logged and any("missing from font" in str(w.message) for w in caught):
        _missing_glyphs_logged = True
        log.warning("a chart label has characters no installed font draws (shown as boxes); install a font "
                    "for that script, e.g. fonts-noto-cjk, and restart")
    return png


def _draw(chart: Bars) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = chart.rows or chart.stacks
    height = 1.0 + 0.55 * len(rows) + (0.45 if chart.stacks else 0)
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(figure)
    family = _font_family()
    text = {"family": family, "color": INK}
    axes = figure.add_subplot()
    labels = [_label(row[0]) for row in rows]
    positions = list(range(len(rows)))[::-1]          # the first row on top
    if chart.rows:
        values = [value for _, value in chart.rows]
        bars = axes.barh(positions, values, height=0.62, color=BAR)
        axes.bar_label(bars, labels=[str(v) for v in values], padding=4, fontsize=FONT_PT, **text)
        axes.set_xlim(0, max(max(values), 1) * 1.15)
    else:
        colours = {T.DONE: DONE, T.FINISHED_ONE: DONE, T.TO_DO: REST, T.NOT_YET: REST}
        for position, (_, stack) in zip(positions, chart.stacks):
            whole = sum(value for _, value in stack) or 1
            left = 0.0
            for name, value in stack:
                share = 100 * value / whole
                axes.barh([position], [share], left=left, height=0.62, color=colours[name])
                if share >= 12:
                    ink = "white" if colours[name] == DONE else INK
                axes.text(left + share / 2, position, f"{name}: {value}", ha="center", va="center",
                          fontsize=FONT_PT - 1, family=family, color=ink)
                left += share
        axes.set_xlim(0, 100)
        axes.xaxis.set_major_formatter(lambda x, _: f"{x:.0f}%")
        axes.tick_params(axis="x", labelsize=FONT_PT - 2, colors=INK)
    axes.set_yticks(positions, labels)
    for tick in axes.get_yticklabels():
        tick.set_fontfamily(family)
        tick.set_parse_math(False)      # a label is text: "$" is a dollar sign, never mathtext
    axes.tick_params(axis="y", length=0, labelsize=FONT_PT, colors=INK)
    if chart.rows:
        axes.set_xticks([])
    axes.set_title(chart.title, loc="left", fontsize=FONT_PT + 2, fontweight="bold", pad=10, parse_math=False,
                   **text)
    for side in ("top", "right", "bottom") if chart.rows else ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


async def chart_images(coach: Coach, fig: dict[str, Any], group: int) -> tuple[tuple[str, str], ...]:
    """Draw and keep a report's charts: (public URL, alt text) of each; none without a public URL."""
    base = str(coach.settings.public_url or "").rstrip("/")
    if not base:
        return ()
    images = []
    for chart in charts_for(fig, group):
        png = await asyncio.to_thread(draw, chart)
        token = uuid.uuid4().hex
        await coach.store.put(CHARTS, token, {"png": base64.b64encode(png).decode("ascii"),
                                              "created_at": coach.clock(), "kind": chart.kind})
        images.append((f"{base}/charts/{token}.png", chart.alt))
    return tuple(images)


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
