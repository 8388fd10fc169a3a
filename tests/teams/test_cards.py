"""Rendering replies as Teams messages and reading card submits back (no server needed)."""

from __future__ import annotations

import json

import pytest

from adapters.teams.cards import MAX_BYTES, parse_submit, render, split_text, teams_markdown
from bot.types import Card, CardSection, Choice, Reply


def test_markdown_dialect():
    assert teams_markdown("say *grow* now") == "say **grow** now"
    assert teams_markdown("2 * 3 * 4") == "2 * 3 * 4"
    assert teams_markdown("**already**") == "**already**"
    assert teams_markdown("a\n    indented") == "a\n\u00a0\u00a0\u00a0\u00a0indented"


def test_split_text_keeps_every_character_and_the_limit():
    text = "\n".join(f"line {i} " + "é" * (i % 50) for i in range(3000)) + "\n" + "x" * 70_000
    pieces = split_text(text, 10_000)
    assert all(len(p.encode()) <= 10_000 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_plain_text_reply_is_a_markdown_message():
    (message,) = render(Reply("Say *help*"))
    activity = message.activity()
    assert activity.text == "Say **help**" and activity.text_format == "markdown"
    assert not activity.attachments


def test_buttons_up_to_five_then_a_choice_set():
    five = Reply("Pick", choices=tuple(Choice(str(i), f"L{i}", "why" if i == 0 else None) for i in range(5)),
                 prompt_id="p")
    (message,) = render(five)
    card = message.card
    assert [a["data"]["choice"] for a in card["actions"]] == ["0", "1", "2", "3", "4"]
    assert all(a["data"]["prompt_id"] == "p" for a in card["actions"])
    assert any(e["type"] == "FactSet" for e in card["body"]), "descriptions are shown"
    six = Reply("Pick", choices=tuple(Choice(str(i), f"L{i}") for i in range(6)), prompt_id="p")
    card = render(six)[0].card
    choice_set = next(e for e in card["body"] if e["type"] == "Input.ChoiceSet")
    assert choice_set["style"] == "compact" and choice_set["isRequired"] is True
    assert len(card["actions"]) == 1


def test_long_card_is_split_and_every_part_fits():
    card = Card("Plan", sections=tuple(CardSection(f"H{i}", tuple("w" * 300 for _ in range(20))) for i in range(20)))
    messages = render(Reply(card=card, choices=(Choice("a", "A"),), prompt_id="p"))
    assert len(messages) > 1
    assert all(len(json.dumps(m.card).encode()) <= MAX_BYTES for m in messages)
    assert "actions" in messages[-1].card and all("actions" not in m.card for m in messages[:-1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"choice": "a", "prompt_id": "p", "_label": "A"}, ("a", None, "p")),
        ({"_values": ["a", "b"], "selection": "1", "prompt_id": "p"}, ("b", None, "p")),
        ({"_values": ["a", "b"], "selection": "1,0,1,9,x", "_multi": True}, (None, ("b", "a"), None)),
        ({"_values": ["a", "b"], "_multi": True}, (None, (), None)),
        ({"_values": ["a", "b"], "selection": "7"}, (None, None, None)),
        ({"_values": "ab", "selection": "0"}, "none"),
        ({"choice": 5}, "none"),
        ({"command": "rm -rf"}, "none"),
        ([1, 2], "none"),
        ("text", "none"),
    ],
)
def test_parse_submit(value, expected):
    submit = parse_submit(value)
    if expected == "none":
        assert submit is None
    else:
        assert (submit.choice, submit.choices, submit.prompt_id) == expected


def test_welcome_command_submit():
    assert parse_submit({"command": "grow"}).command == "grow"


def test_many_facts_are_split_into_cards_that_fit():
    facts = tuple((f"Skill {i}", "x" * 400) for i in range(200))
    messages = render(Reply(card=Card("Team skills", sections=(CardSection("Where the team grows", facts=facts),),
                                      kind="report")))
    assert len(messages) > 1
    assert all(len(json.dumps(m.card).encode()) <= MAX_BYTES for m in messages)
    shown = [f["title"] for m in messages for e in m.card["body"] if e["type"] == "FactSet" for f in e["facts"]]
    assert shown == [f"Skill {i}" for i in range(200)]


def inputs_of(element) -> list[dict]:
    """Every Input.* element of a card, wherever it sits (body, containers, columns, show-card actions)."""
    found: list[dict] = []
    if isinstance(element, dict):
        if str(element.get("type", "")).startswith("Input."):
            found.append(element)
        for key in ("body", "items", "columns", "actions", "card"):
            value = element.get(key)
            for child in value if isinstance(value, list) else [value]:
                found.extend(inputs_of(child))
    return found


def unlabelled(card: dict) -> list[str]:
    return [i.get("id", "?") for i in inputs_of(card) if not (isinstance(i.get("label"), str) and i["label"].strip())]


def _choices(n: int, described: bool = False):
    return tuple(Choice(f"v{i}", f"Option {i}", "why" if described else None) for i in range(n))


EVERY_SHAPE = [
    Reply("Pick one", choices=_choices(3), prompt_id="p"),
    Reply("Pick one", choices=_choices(5, described=True), prompt_id="p"),
    Reply("Pick one", choices=_choices(6), prompt_id="p"),
    Reply("Pick one", choices=_choices(30, described=True), prompt_id="p"),
    Reply("Pick any", choices=_choices(4), multi=True, prompt_id="p"),
    Reply("Pick any", choices=_choices(14), multi=True, prompt_id="p"),
    Reply(card=Card("Plan", sections=(CardSection("Skills", ("a", "b")),)), choices=_choices(7), prompt_id="p"),
    Reply("Just text"),
]


@pytest.mark.parametrize("reply", EVERY_SHAPE, ids=lambda r: f"{len(r.choices)}{'-multi' if r.multi else ''}")
def test_every_input_of_every_card_has_a_label(reply):
    cards = [m.card for m in render(reply) if m.card is not None]
    for card in cards:
        assert unlabelled(card) == []
    required = [i for card in cards for i in inputs_of(card) if i.get("isRequired")]
    assert all(i.get("errorMessage") for i in required), "a required input says what is missing"


def test_welcome_and_answered_cards_have_no_unlabelled_inputs():
    from adapters.teams.cards import Submit, answered_card, welcome_message

    assert unlabelled(welcome_message().card) == []
    assert unlabelled(answered_card(Submit(choice="a", label="A", question="Q?"))) == []
    assert inputs_of(answered_card(Submit(choice="a", label="A", question="Q?"))) == [], "read-only"


def test_the_label_check_finds_an_unlabelled_input():
    card = {"type": "AdaptiveCard", "body": [{"type": "Container", "items": [
        {"type": "Input.ChoiceSet", "id": "x", "isRequired": True, "choices": []}]}]}
    assert unlabelled(card) == ["x"]
