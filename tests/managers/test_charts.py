"""The team report's charts (bot/charts.py): drawn with matplotlib from the visible figures only."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings as hsettings, strategies as st

from bot.charts import CHARTS, Bars, charts_for, draw
from bot.report import visible_figures

from .conftest import cmd
from .test_report import MANAGER_B, TEAM_B, add_profile, plan

K = 5
ROOT = Path(__file__).resolve().parents[2]


def stats(n=20, with_plan=14, upskill=8, reskill=6, helped=6, progressing=7, done=12, total=40, building=()):
    return {"group": n, "with_plan": with_plan, "upskill": upskill, "reskill": reskill, "helped": helped,
            "progressing": progressing, "skills_done": done, "skills_total": total,
            "building": list(building or [("SQL", 9), ("Python", 7)])}


def png_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.verify()                                  # a whole, valid PNG
    assert image.format == "PNG"
    return image.size


def test_labels_with_accents_and_other_scripts_draw_a_valid_png():
    # and "$" is a dollar sign: a label is never read as mathtext (which would fail on "$^$")
    chart = Bars("skills", "Compétences — навыки", "alt", rows=(
        ("Gestión de proyectos y planificación estratégica avanzada", 9), ("Управление проектами", 7),
        ("Ελληνικά", 6), ("データ分析", 5), ("Français: données", 5), ("Costs in $^$ and $\\frac{$ — 50%", 5)))
    width, height = png_size(draw(chart))
    assert width == 960                             # full width in Slack's and Teams' image blocks
    assert 300 < height < 700


def test_every_chart_of_a_report_whose_figures_are_all_shown():
    fig = visible_figures(stats(), K)
    charts = charts_for(fig, 20)
    assert [c.kind for c in charts] == ["skills", "paths", "progress"]
    skills, paths, progress = charts
    assert skills.rows == (("SQL", 9), ("Python", 7))
    assert paths.rows == (("Upskilling (growing in their role)", 8), ("Reskilling (moving to a new role)", 6),
                          ("No plan yet", 6))
    assert progress.stacks == (("Skills in plans\n12 of 40 done", (("done", 12), ("to do", 28))),
                               ("People\n7 of 20 finished a skill", (("finished a skill", 7), ("not yet", 13))))
    for chart in charts:
        assert png_size(draw(chart))[0] == 960


def test_a_hidden_split_has_no_chart():
    # two people reskilling: the path split reads "not shown", so there is no upskill-vs-reskill chart
    fig = visible_figures(stats(upskill=12, reskill=2), K)
    assert fig["reskill"] == fig["upskill"] == "not shown (fewer than 5 on one side)"
    assert [c.kind for c in charts_for(fig, 20)] == ["skills", "progress"]
    # three who finished a skill: no progress chart (and no skills-done figure with it)
    fig = visible_figures(stats(progressing=3), K)
    assert [c.kind for c in charts_for(fig, 20)] == ["skills", "paths"]
    # a skill whose count is held back ("5 or more": 18 of 20 build it) gets no bar; one bar is no chart
    fig = visible_figures(stats(building=[("SQL", 18), ("Python", 7)]), K)
    assert fig["skills"] == [("SQL", "5 or more"), ("Python", "7")]
    assert [c.kind for c in charts_for(fig, 20)] == ["paths", "progress"]


async def test_the_report_stores_no_chart_of_a_hidden_split(make_coach):
    coach = make_coach(public_url="https://coach.example.com")
    for i, n in enumerate(TEAM_B):   # ten people: eight upskilling, two reskilling — the path split is hidden
        await add_profile(coach, n, consent=True, the_plan=plan(
            "upskill" if i < 8 else "reskill", [("sql", i < 5), ("python", False), ("leadership", i < 5)]))
    card = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    facts = {label: value for section in card.sections for label, value in section.facts}
    assert facts["Reskilling (moving to a new role)"] == "not shown (fewer than 5 on one side)"
    tokens = [url.removeprefix("https://coach.example.com/charts/").removesuffix(".png") for url, _ in card.images]
    kept = await coach.store.get_many([(CHARTS, token) for token in tokens])
    assert [record.data["kind"] for record in kept] == ["skills", "progress"]


@hsettings(max_examples=200, deadline=None)
@given(st.integers(5, 40).flatmap(lambda n: st.tuples(
    st.just(n), st.integers(0, n), st.integers(0, n), st.integers(0, n), st.integers(0, n),
    st.lists(st.integers(0, n), min_size=0, max_size=6))))
def test_no_chart_draws_a_group_of_fewer_than_k(team):
    n, with_plan, upskill_share, progressing, helped, counts = team
    upskill = min(upskill_share, with_plan)
    s = stats(n=n, with_plan=with_plan, upskill=upskill, reskill=with_plan - upskill, helped=helped,
              progressing=progressing, done=progressing, total=max(progressing, 1),
              building=sorted(((f"Skill {i}", c) for i, c in enumerate(counts)), key=lambda kv: -kv[1]))
    for chart in charts_for(visible_figures(s, K), n):
        people = chart.rows if chart.kind != "progress" else chart.stacks[-1][1]
        assert all(value >= K for _, value in people), (chart, s)
        if chart.kind == "skills":      # and never a skill whose complement is small
            assert all(n - value >= K for _, value in people), (chart, s)


def test_starting_the_server_does_not_import_matplotlib(tmp_path):
    code = (
        "import sys\n"
        "from bot.server import create_app\n"
        "from bot.settings import Settings\n"
        "create_app(Settings(_env_file=None, database_url='memory:', slack_bot_token='', teams_enabled=False,"
        " public_url='https://coach.example.com'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_chart_is_an_image_on_slack_and_teams():
    from adapters.slack.blocks import card_blocks
    from adapters.teams.cards import card_body
    from bot.types import Card

    card = Card("Team skills — your team", images=(("https://c.example/charts/a.png", "Skills chart"),
                                                     ("https://c.example/charts/b.png", "Progress chart")),
                kind="report")
    assert [(b["image_url"], b["alt_text"]) for b in card_blocks(card) if b["type"] == "image"] == list(card.images)
    assert [(b["url"], b["altText"]) for b in card_body(card) if b["type"] == "Image"] == list(card.images)
