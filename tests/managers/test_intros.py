"""Introductions: ask, accept, decline, expiry after 3 days, capacity and pause."""

from __future__ import annotations

from bot import intros, outbox
from bot.delivery import DeliveryError
from bot.store import PROFILES
from bot.types import Incoming

from .conftest import Clock, RecordingMessenger, known_ids, press, report_email, slack_id

REQUESTER = slack_id(report_email(1))
R13, R14, R24 = slack_id(report_email(13)), slack_id(report_email(14)), slack_id(report_email(24))


async def with_plan(coach) -> None:
    await coach.store.put(PROFILES, f"slack:{REQUESTER}", {
        "email": report_email(1), "name": "Report 01", "platform": "slack", "user_id": REQUESTER,
        "role": {"id": "software-developer", "title": "Software developer", "family": "engineering"},
        "plan": {"path": "upskill", "skills": [{"id": "sql", "name": "SQL", "done": False},
                                               {"id": "python", "name": "Python", "done": False}],
                 "people": [
                     {"email": report_email(13), "name": "Report 13", "offer": "mentoring", "skills": ["python", "sql"]},
                     {"email": report_email(14), "name": "Report 14", "offer": "mentoring", "skills": ["sql"]},
                 ]},
    })


def say(text: str, user: str = REQUESTER, email: str | None = None) -> Incoming:
    return Incoming("slack", user, text=text, email=email)


def dm(coach, user_id: str):
    return coach.messengers["slack"].to(user_id)


async def test_ask_and_accept(make_coach):
    coach = make_coach()
    await with_plan(coach)
    replies = await coach.handle(say("Ask Report 13 to mentor me"))
    assert replies[0].text.startswith("I've asked *Report 13* whether they can mentor you with Python, SQL")
    request = dm(coach, R13)[-1]
    assert "*Report 01* (Software developer) would like you to mentor them with Python, SQL" in request.text
    accept, decline = request.choices
    assert accept.value.startswith("intro:accept:") and decline.value.startswith("intro:decline:")
    assert request.prompt_id == "intro:" + accept.value.split(":")[2]

    # somebody else pressing the button changes nothing
    replies = await coach.handle(press(accept.value, user=R14, prompt_id=request.prompt_id))
    assert "meant for someone else" in replies[0].text

    replies = await coach.handle(press(accept.value, user=R13, prompt_id=request.prompt_id))
    assert "I've introduced you to *Report 01* (Software developer) — report-01@example.com" in replies[0].text
    assert "room for 1 more person" in replies[0].text            # capacity 2, one taken
    intro = dm(coach, REQUESTER)[-1]
    assert intro.text.startswith("Good news: *Report 13* (Software developer) agreed to mentor you")
    assert report_email(13) in intro.text and "Next steps" in intro.text
    # answering twice does nothing more
    replies = await coach.handle(press(accept.value, user=R13, prompt_id=request.prompt_id))
    assert "already answered" in replies[0].text
    state = await intros.helper_state(coach, coach.directory.by_email(report_email(13)))
    assert state["remaining"] == 1


async def test_decline_offers_next_match_without_naming(make_coach):
    coach = make_coach()
    await with_plan(coach)
    await coach.handle(say("ask report 13 to mentor me"))
    request = dm(coach, R13)[-1]
    replies = await coach.handle(press(request.choices[1].value, user=R13, prompt_id=request.prompt_id))
    assert "without mentioning your answer" in replies[0].text
    offer = dm(coach, REQUESTER)[-1]
    assert "didn't work out this time" in offer.text and "Report 13" not in offer.text
    assert "*Report 14*" in offer.text
    assert offer.choices[0].value == f"intro:ask:{report_email(14)}:mentoring"
    replies = await coach.handle(press(offer.choices[0].value, user=REQUESTER, prompt_id=offer.prompt_id))
    assert replies[0].text.startswith("I've asked *Report 14*")
    assert dm(coach, R14)[-1].choices[0].value.startswith("intro:accept:")   # reached by email lookup


async def test_no_answer_within_three_days_expires(make_coach):
    clock = Clock()
    coach = make_coach(clock=clock)
    await with_plan(coach)
    await coach.handle(say("ask Report 13 to mentor me"))
    request = dm(coach, R13)[-1]
    clock.advance(2 * 86400)
    assert await intros.expire_due(coach) == 0
    clock.advance(86400 + 1)
    assert await intros.expire_due(coach) == 1
    assert await intros.expire_due(coach) == 0
    offer = dm(coach, REQUESTER)[-1]
    assert "*Report 14*" in offer.text and "Report 13" not in offer.text
    replies = await coach.handle(press(request.choices[0].value, user=R13, prompt_id=request.prompt_id))
    assert "expired" in replies[0].text
    # an answered request does not expire
    await coach.handle(press(offer.choices[0].value, user=REQUESTER, prompt_id=offer.prompt_id))
    second = dm(coach, R14)[-1]
    await coach.handle(press(second.choices[0].value, user=R14, prompt_id=second.prompt_id))
    clock.advance(4 * 86400)
    assert await intros.expire_due(coach) == 0


async def test_capacity_and_pause_are_respected(make_coach):
    coach = make_coach()
    await with_plan(coach)
    # Report 14 has no Slack id in the file: the adapter gives their email
    replies = await coach.handle(say("mentoring capacity 0", user=R14, email=report_email(14)))
    assert "no one more right now" in replies[0].text
    replies = await coach.handle(say("mentoring pause", user=R13))
    assert replies[0].text.startswith("Paused")
    replies = await coach.handle(say("ask Report 13 to mentor me"))
    assert replies[0].text == "Report 13 can't take anyone on right now."
    # the next available person for SQL (Report 14 has no room): Report 24
    assert "*Report 24*" in replies[1].text and replies[1].choices[0].value.endswith(":mentoring")
    replies = await coach.handle(say("mentoring resume", user=R13))
    assert "room for 2 more people" in replies[0].text
    replies = await coach.handle(say("mentoring capacity lots", user=R13))
    assert "whole number" in replies[0].text
    replies = await coach.handle(say("mentoring status", user=R13))
    assert "You offer mentoring" in replies[0].text


async def test_unknown_people_and_helpers(make_coach):
    coach = make_coach()
    await with_plan(coach)
    replies = await coach.handle(say("ask Someone Unknown to mentor me"))
    assert "couldn't find Someone Unknown" in replies[0].text
    replies = await coach.handle(say("ask Report 01 to mentor me"))
    assert "That's you" in replies[0].text
    replies = await coach.handle(Incoming("slack", "UOUTSIDER", text="mentoring pause"))
    assert "organisation file" in replies[0].text
    await coach.handle(say("ask Report 13 to mentor me"))
    replies = await coach.handle(say("ask Report 13 to mentor me"))
    assert "already asked Report 13" in replies[0].text


def test_parse_ask():
    assert intros.parse_ask("ask Report 13 to mentor me") == ("Report 13", "mentoring")
    assert intros.parse_ask("Please ask Report 23 to let me shadow them!") == ("Report 23", "shadowing")
    assert intros.parse_ask("ask report-15@example.com if they could peer coach me") == (
        "report-15@example.com", "peer_coaching")
    assert intros.parse_ask("ask Report 13") == ("Report 13", None)
    assert intros.parse_ask("ask Report 13 to bake a cake") is None


async def test_forget_me_removes_requests_and_history(make_coach):
    coach = make_coach()
    await with_plan(coach)
    await coach.handle(say("ask Report 13 to mentor me"))
    assert [r async for r in coach.store.scan(intros.INTROS)]
    await coach.forget(f"slack:{REQUESTER}")
    assert [r async for r in coach.store.scan(intros.INTROS)] == []
    assert await coach.store.get(intros.HISTORY, f"slack:{REQUESTER}") is None


def limited_once(user_id: str, attempts: int) -> None:
    """The platform rate-limits the first message."""
    if attempts == 1:
        raise DeliveryError("ratelimited", retry_after=1.0)


async def test_a_rate_limited_request_waits_in_the_outbox_and_is_sent_once(make_coach):
    clock = Clock()
    coach = make_coach(clock=clock, messengers=[RecordingMessenger("slack", known=known_ids("slack"), fail=limited_once)])
    await with_plan(coach)
    replies = await coach.handle(say("Ask Report 13 to mentor me"))
    assert replies[0].text.startswith("I've asked *Report 13*")
    assert dm(coach, R13) == []                                   # refused for now, queued
    box = outbox.service(coach)
    clock.advance(outbox.lease_seconds(coach) + 1)
    assert await box.run_once() == 1
    assert len(dm(coach, R13)) == 1 and "would like you to mentor them" in dm(coach, R13)[0].text
    clock.advance(outbox.lease_seconds(coach) + 1)
    assert await box.run_once() == 0                              # done: nothing is sent twice


async def test_forget_me_drops_a_request_waiting_in_the_outbox(make_coach):
    clock = Clock()
    coach = make_coach(clock=clock, messengers=[RecordingMessenger("slack", known=known_ids("slack"), fail=limited_once)])
    await with_plan(coach)
    await coach.handle(say("Ask Report 13 to mentor me"))
    clock.advance(1)
    await coach.forget(f"slack:{R13}")                            # the helper, before it is sent
    clock.advance(outbox.lease_seconds(coach) + 1)
    assert await outbox.service(coach).run_once() == 1
    assert dm(coach, R13) == []


async def test_the_outbox_forgets_what_it_sent_and_the_drop_markers_after_a_week(make_coach):
    clock = Clock()
    coach = make_coach(clock=clock)
    await with_plan(coach)
    await coach.handle(say("Ask Report 13 to mentor me"))
    await coach.forget(f"slack:{R14}")
    assert [r.key async for r in coach.store.scan(outbox.ITEMS)] != []
    assert [r.key async for r in coach.store.scan(outbox.DROPS)] == [f"slack:{R14}"]
    box = outbox.service(coach)
    clock.advance(outbox.DROP_KEEP + outbox.SWEEP_EVERY + 1)
    await box.run_once()      # the request's queued copy (its safety net) finds it sent: kept until then
    assert len(dm(coach, R13)) == 1
    assert [r.key async for r in coach.store.scan(outbox.DROPS)] == []
    clock.advance(outbox.SWEEP_EVERY + 1)
    await box.run_once()
    assert [r.key async for r in coach.store.scan(outbox.ITEMS)] == []
    assert len(dm(coach, R13)) == 1
