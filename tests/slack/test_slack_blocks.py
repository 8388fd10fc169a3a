"""Rendering replies as Block Kit within Slack's limits."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack import blocks as B
from bot.core import HomeSummary
from bot.types import Card, CardSection, Choice, Reply


def all_blocks(messages):
    return [b for m in messages for b in m["blocks"]]


def check_limits(messages) -> None:
    """Everything Slack would refuse with invalid_blocks / msg_too_long."""
    for message in messages:
        assert message["text"].strip() and len(message["text"]) <= B.MAX_FALLBACK
        assert 0 < len(message["blocks"]) <= B.MAX_BLOCKS
        ids = [b["block_id"] for b in message["blocks"] if "block_id" in b]
        assert len(ids) == len(set(ids))
        for block in message["blocks"]:
            text = block.get("text")
            if block["type"] == "section":
                assert text or block.get("fields")
                if text:
                    assert 0 < len(text["text"]) <= B.MAX_SECTION_TEXT
                assert len(block.get("fields", [])) <= B.MAX_FIELDS
                assert all(len(f["text"]) <= B.MAX_FIELD_TEXT for f in block.get("fields", []))
            if block["type"] == "header":
                assert len(text["text"]) <= B.MAX_HEADER_TEXT
            if block["type"] == "actions":
                assert len(block["block_id"]) <= B.MAX_BLOCK_ID
                for element in block["elements"]:
                    if element["type"] == "button":
                        assert len(element["text"]["text"]) <= B.MAX_BUTTON_TEXT
                        assert len(element.get("value", "")) <= B.MAX_BUTTON_VALUE
                    for option in element.get("options", []):
                        assert len(option["text"]["text"]) <= B.MAX_OPTION_TEXT
                        assert len(option["value"]) <= B.MAX_OPTION_VALUE
                    assert len(element.get("options", [])) <= B.MAX_OPTIONS
            if block["type"] == "context":
                assert all(len(e["text"]) <= 3000 for e in block["elements"])


def test_long_text_is_split_into_sections_of_at_most_3000_characters():
    text = "\n".join(f"• line {i} " + "word " * 40 for i in range(100))
    [message] = B.render(Reply(text))
    check_limits([message])
    sections = [b["text"]["text"] for b in message["blocks"]]
    assert len(sections) > 1
    assert "\n".join(sections).replace("\n", "") == B.escape(text).replace("\n", "")


def test_a_single_huge_line_is_cut_too():
    [message] = B.render(Reply("x" * 7000))
    check_limits([message])
    assert sum(len(b["text"]["text"]) for b in message["blocks"]) == 7000


def test_more_than_50_blocks_become_several_messages_with_the_question_last():
    card = Card("Plan", sections=tuple(CardSection(f"Part {i}", (f"line {i}",)) for i in range(40)))
    reply = Reply("Here it is", card=card, choices=(Choice("a", "A"), Choice("b", "B")), prompt_id="p")
    messages = B.render(reply)
    check_limits(messages)
    assert len(messages) == 2
    assert messages[-1]["blocks"][-1]["block_id"] == "prompt|p"
    assert messages[0]["text"] == "Here it is" and messages[1]["text"].startswith("(continued)")


def test_up_to_five_choices_are_buttons_more_a_select():
    five = B.render(Reply("q", choices=tuple(Choice(str(i), f"L{i}") for i in range(5)), prompt_id="p"))
    [actions] = [b for b in all_blocks(five) if b["type"] == "actions"]
    assert [e["type"] for e in actions["elements"]] == ["button"] * 5
    assert [e["value"] for e in actions["elements"]] == ["0", "1", "2", "3", "4"]
    six = B.render(Reply("q", choices=tuple(Choice(str(i), f"L{i}") for i in range(6)), prompt_id="p"))
    [actions] = [b for b in all_blocks(six) if b["type"] == "actions"]
    assert [e["type"] for e in actions["elements"]] == ["static_select"]


def test_multi_select_is_checkboxes_up_to_ten_then_a_multi_select_each_with_submit():
    for n, kind in ((10, "checkboxes"), (11, "multi_static_select")):
        messages = B.render(Reply("q", choices=tuple(Choice(str(i), f"L{i}") for i in range(n)), multi=True,
                                  prompt_id="s"))
        check_limits(messages)
        [actions] = [b for b in all_blocks(messages) if b["type"] == "actions"]
        picker, submit = actions["elements"]
        assert picker["type"] == kind and len(picker["options"]) == n
        assert submit["action_id"] == B.SUBMIT_MANY and submit["value"] == "s"


def test_descriptions_are_shown_next_to_buttons():
    messages = B.render(Reply("q", choices=(Choice("up", "Upskill", "grow in your role"), Choice("re", "Reskill")),
                              prompt_id="p"))
    assert "grow in your role" in json.dumps(messages)


def test_text_is_escaped_but_bold_survives():
    [message] = B.render(Reply("*Bold* <script> & co"))
    assert message["blocks"][0]["text"]["text"] == "*Bold* &lt;script&gt; &amp; co"


def test_a_plan_card_has_a_header_sections_fields_and_an_image():
    card = Card("Your plan", "Why this plan", (
        CardSection("Skills to build", ("• Data analytics", "• Storytelling")),
        CardSection("At a glance", facts=tuple((f"Fact {i}", f"value {i}") for i in range(12))),
    ), image_url="https://example.com/p.png", image_alt="chart", kind="plan")
    messages = B.render(Reply("", card=card))
    check_limits(messages)
    kinds = [b["type"] for b in all_blocks(messages)]
    assert kinds[0] == "header" and "image" in kinds and "divider" in kinds
    fields = [b for b in all_blocks(messages) if b.get("fields")]
    assert [len(b["fields"]) for b in fields] == [10, 2]
    assert messages[0]["text"] == "Your plan"


def test_an_attachment_is_a_file_after_the_text_and_as_text_only_when_the_upload_fails():
    data = {"profiles": {"notes": ["x <" * 100] * 100}, "user": "slack:U1"}
    messages = B.render(Reply("Here is everything I keep about you.", attachment=data,
                              attachment_name="skillcoach-data.json"))
    first, upload = messages
    assert first["blocks"][0]["text"]["text"] == "Here is everything I keep about you."
    assert upload["file"]["filename"] == "skillcoach-data.json"
    assert json.loads(upload["file"]["content"]) == data
    fallback = B.file_as_text(upload["file"])
    check_limits(fallback)
    code = "".join(b["text"]["text"].removeprefix("```\n").removesuffix("\n```")
                   for b in all_blocks(fallback) if b["text"]["text"].startswith("```"))
    assert json.loads(code.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")) == data


def test_chosen_blocks_remove_only_the_pressed_question():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "q"}},
              {"type": "actions", "block_id": "prompt|p", "elements": []}]
    out = B.chosen_blocks(blocks, "prompt|p", "Option <1>")
    assert [b["type"] for b in out] == ["section", "context"]
    assert out[1]["elements"][0]["text"] == "✓ You chose: Option &lt;1&gt;"


def test_home_view_states():
    empty = B.home_view(HomeSummary(False, False, None, None, 0, 0, True, False))
    assert "home_start" in json.dumps(empty) and len(empty["blocks"]) <= B.MAX_HOME_BLOCKS
    card = Card("Plan", sections=tuple(CardSection(f"S{i}", ("l",)) for i in range(80)))
    full = B.home_view(HomeSummary(True, False, "Your upskilling plan", "reskill", 2, 5, False, True, card))
    text = json.dumps(full, ensure_ascii=False)
    assert "Your upskilling plan" in text and "reskilling — moving to a new role" in text
    assert "2 of 5" in text and "home_reminders_on" in text
    assert "home_sharing_off" in text and len(full["blocks"]) <= B.MAX_HOME_BLOCKS


choice_st = st.builds(Choice, st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=200),
                      st.none() | st.text(max_size=200))
section_st = st.builds(CardSection, st.none() | st.text(max_size=300), st.lists(st.text(max_size=500), max_size=8)
                       .map(tuple), st.lists(st.tuples(st.text(max_size=100), st.text(max_size=3000)), max_size=12)
                       .map(tuple))
card_st = st.none() | st.builds(Card, st.text(min_size=1, max_size=300), st.text(max_size=4000),
                                st.lists(section_st, max_size=30).map(tuple))
reply_st = st.builds(Reply, st.text(max_size=9000), st.lists(choice_st, max_size=120, unique_by=lambda c: c.value)
                     .map(tuple), st.booleans(), card_st, st.none() | st.text(max_size=300))


@settings(max_examples=150, deadline=None)
@given(reply=reply_st)
def test_any_reply_renders_within_slack_limits(reply):
    messages = B.render(reply)
    if reply.text.strip() or reply.card or reply.choices:
        assert messages
    check_limits(messages)
    if reply.choices:
        actions = [b for b in all_blocks(messages) if b["type"] == "actions"]
        assert len(actions) == 1 and B.prompt_of(actions[0]["block_id"]) == (reply.prompt_id or None)
