"""A whole interview in the personal chat, answered the way a Teams user does: card buttons, choice sets
and typed text, until the plan card arrives."""

from __future__ import annotations

from typing import Any

from bot import messages as M
from tests.fakes.bf_connector import Call, member
from tests.teams import activities as A
from tests.teams.test_cards import unlabelled

PREFERRED = ("start", "yes", "grow", "1–3", "1-3", "a few hours", "share")


def open_question(batch: list[Call]) -> tuple[Call, dict[str, Any]] | None:
    for call in reversed(batch):
        for card in call.cards:
            if card.get("actions") and any(a.get("type") == "Action.Submit" for a in card["actions"]):
                return call, card
    return None


def plan_card(batch: list[Call]) -> dict[str, Any] | None:
    for call in batch:
        for card in call.cards:
            if any(e.get("id") == "card-plan" for e in card.get("body") or []):
                return card
    return None


def answer(card: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The data of the Action.Submit to press and the inputs to send with it."""
    choice_set = next((e for e in card["body"] if e.get("type") == "Input.ChoiceSet"), None)
    actions = [a for a in card["actions"] if a.get("type") == "Action.Submit"]
    if choice_set is None:
        for word in PREFERRED:
            for action in actions:
                if word in action["title"].lower():
                    return action["data"], {}
        return actions[0]["data"], {}
    options = choice_set["choices"]
    if choice_set.get("isMultiSelect"):
        return actions[0]["data"], {choice_set["id"]: ",".join(o["value"] for o in options[:2])}
    return actions[0]["data"], {choice_set["id"]: options[0]["value"]}


async def test_whole_interview_to_the_plan_card(server, connector):
    user = member(1)
    chat = A.personal_conversation(user)["id"]
    typed = iter(["Marketing specialist", "digital marketing, social media", "I want to get better at data",
                  "yes", "no"] + ["ok"] * 20)
    await server.post(A.message(connector.url, user, "hi"))
    transcript: list[str] = []
    plan = None
    for _ in range(40):
        batch = [c for c in connector.messages(chat)]
        connector.clear()
        transcript.extend(t for c in batch for t in c.texts)
        for call in batch:  # every card the interview shows labels its inputs (Adaptive Cards accessibility)
            for card in call.cards:
                assert unlabelled(card) == [], card
        plan = plan_card(batch)
        if plan is not None:
            break
        assert batch, "every message gets an answer"
        assert not any(M.TRY_AGAIN == t for t in transcript)
        question = open_question(batch)
        if question is not None:
            call, card = question
            data, inputs = answer(card)
            status, _ = await server.post(A.submit(connector.url, data, call.response_id, user, **inputs))
            assert status == 201
            assert connector.updates(), "the answered card is updated so it cannot be pressed twice"
            connector.calls[:] = [c for c in connector.calls if c.method != "PUT"]
        else:
            status, _ = await server.post(A.message(connector.url, user, next(typed)))
            assert status == 201
    assert plan is not None, "no plan card after 40 answers:\n" + "\n".join(transcript[-20:])
    assert plan["version"] == "1.5"
    texts = " ".join(e.get("text", "") for e in plan["body"] if e["type"] == "TextBlock")
    assert "Skills to build" in texts
    assert any(e["type"] == "FactSet" for e in plan["body"]), "the plan's facts are a FactSet"
    assert "Marketing specialist" in texts            # the plan is for the role the person confirmed


async def test_an_unknown_title_gets_the_field_question_as_a_labelled_choice_set(server, connector):
    user = member(1)
    chat = A.personal_conversation(user)["id"]
    for text in ("hi", "start"):
        await server.post(A.message(connector.url, user, text))
    connector.clear()
    await server.post(A.message(connector.url, user, "chief happiness wrangler of llamas"))
    call, card = open_question(connector.messages(chat))
    assert any("rather ask than guess" in t for t in call.texts)
    choice_set = next(e for e in card["body"] if e.get("type") == "Input.ChoiceSet")
    assert choice_set.get("label") and unlabelled(card) == []
    titles = [c["title"] for c in choice_set["choices"]]
    families = sorted(f.name for f in server.coach.catalog.families.values())
    assert sorted(titles[:-1]) == families and titles[-1] == M.NO_FIELD
    assert choice_set.get("style") != "expanded"                   # 35 fields: a compact drop-down
    value = next(c["value"] for c in choice_set["choices"] if c["title"] == "Healthcare")
    connector.clear()
    data, _ = answer(card)
    status, _ = await server.post(A.submit(connector.url, data, call.response_id, user, **{choice_set["id"]: value}))
    assert status == 201
    texts = [t for c in connector.messages(chat) for t in c.texts]
    assert texts[0] == M.CUSTOM_ROLE.format(title="Chief happiness wrangler of llamas",
                                            family="Healthcare").replace("*", "**")
    assert M.ASK_TENURE in texts
