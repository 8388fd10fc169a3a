"""`my data` in Teams, over HTTP: a short summary, then a file consent card; accepting it uploads the export
(a PUT to the upload URL Teams gives) and shows a file card; declining says so; nothing else is accepted."""

from __future__ import annotations

import asyncio
import json
import re

from tests.fakes.bf_connector import member
from tests.teams import activities as A

CONSENT = "application/vnd.microsoft.teams.card.file.consent"
INFO = "application/vnd.microsoft.teams.card.file.info"


async def ask_for_my_data(server, connector, user):
    await server.post(A.message(connector.url, user, "grow"))
    connector.clear()
    await server.post(A.message(connector.url, user, "my data"))
    sent = connector.messages(A.personal_conversation(user)["id"])
    consent = [a for c in sent for a in (c.body.get("attachments") or []) if a["contentType"] == CONSENT]
    return sent, consent


async def test_my_data_is_a_summary_and_a_file_consent_card(server, connector):
    user = member(1)
    sent, (consent,) = await ask_for_my_data(server, connector, user)
    summary = "\n".join(t for c in sent for t in c.texts)
    assert summary.startswith("Here's everything I keep about you")
    assert "```" not in summary and '"profiles"' not in summary       # not the raw JSON
    assert re.fullmatch(r"skillcoach-my-data-\d{4}-\d\d-\d\d\.json", consent["name"])
    content = consent["content"]
    assert content["acceptContext"] == content["declineContext"] == {"file": "my-data", "name": consent["name"]}
    assert content["sizeInBytes"] > 0 and content["description"]


async def test_accepting_uploads_the_export_and_shows_the_file(server, connector):
    user = member(1)
    _, (consent,) = await ask_for_my_data(server, connector, user)
    connector.clear()
    info = connector.upload_info(consent["name"])
    status, body = await server.post(A.invoke(connector.url, "fileConsent/invoke", {
        "type": "fileUpload", "action": "accept", "context": consent["content"]["acceptContext"],
        "uploadInfo": info}, user))
    assert status == 200 and json.loads(body) == {}
    (upload,) = connector.uploads
    assert upload.name == consent["name"]
    assert upload.headers["Content-Range"] == f"bytes 0-{len(upload.content) - 1}/{len(upload.content)}"
    data = json.loads(upload.content.decode("utf-8"))
    assert data["user"] == f"teams:{user['aadObjectId']}" and data["profiles"]["platform"] == "teams"
    (shown,) = connector.messages(A.personal_conversation(user)["id"])
    (card,) = shown.body["attachments"]
    assert card == {"contentType": INFO, "name": consent["name"], "contentUrl": info["contentUrl"],
                    "content": {"uniqueId": info["uniqueId"], "fileType": "json"}}


def consent_card_id(sent):
    """The activity id the connector gave the message that carries the consent card."""
    (call,) = [c for c in sent if any(a["contentType"] == CONSENT for a in c.body.get("attachments") or [])]
    return call.response_id


def answer(connector, user, consent, card_id, action):
    value = {"type": "fileUpload", "action": action, "context": consent["content"][f"{action}Context"]}
    if action == "accept":
        value["uploadInfo"] = connector.upload_info(consent["name"])
    activity = A.invoke(connector.url, "fileConsent/invoke", value, user)
    activity["replyToId"] = card_id
    return activity


async def test_a_consent_card_is_answered_once_and_replaced(server, connector):
    user = member(1)
    sent, (consent,) = await ask_for_my_data(server, connector, user)
    card_id = consent_card_id(sent)
    connector.clear()
    status, body = await server.post(answer(connector, user, consent, card_id, "accept"))
    assert status == 200 and json.loads(body) == {}
    (update,) = connector.updates()
    assert update.activity_id == card_id
    assert update.texts == [f"Sent: **{consent['name']}**"] and not update.body.get("attachments")
    connector.clear()
    # the same card accepted again (a second client, a double press): nothing is uploaded again
    status, body = await server.post(answer(connector, user, consent, card_id, "accept"))
    assert status == 200 and json.loads(body) == {}
    assert len(connector.uploads) == 1
    (note,) = connector.messages()
    assert note.texts == ["That file was sent already."] and not note.body.get("attachments")
    assert connector.updates() == []
    # declining it now changes nothing either
    connector.clear()
    await server.post(answer(connector, user, consent, card_id, "decline"))
    assert [m.texts for m in connector.messages()] == [["That file was sent already."]]
    assert len(connector.uploads) == 1


async def test_two_accepts_at_once_upload_once(server, connector):
    user = member(1)
    sent, (consent,) = await ask_for_my_data(server, connector, user)
    card_id = consent_card_id(sent)
    connector.clear()
    results = await asyncio.gather(*(server.post(answer(connector, user, consent, card_id, "accept"))
                                     for _ in range(2)))
    assert [status for status, _ in results] == [200, 200]
    assert len(connector.uploads) == 1
    shown = [a for m in connector.messages() for a in m.body.get("attachments") or []]
    assert [a["contentType"] for a in shown] == [INFO]


async def test_a_new_my_data_gives_a_new_card_that_can_be_accepted(server, connector):
    user = member(1)
    first, (consent,) = await ask_for_my_data(server, connector, user)
    await server.post(answer(connector, user, consent, consent_card_id(first), "accept"))
    again, (consent2,) = await ask_for_my_data(server, connector, user)
    assert consent2["name"] == consent["name"]          # the same day: the same file name, another card
    await server.post(answer(connector, user, consent2, consent_card_id(again), "accept"))
    assert len(connector.uploads) == 2


async def test_a_declined_card_is_replaced_and_cannot_be_accepted_later(server, connector):
    user = member(1)
    sent, (consent,) = await ask_for_my_data(server, connector, user)
    card_id = consent_card_id(sent)
    connector.clear()
    await server.post(answer(connector, user, consent, card_id, "decline"))
    (update,) = connector.updates()
    assert update.activity_id == card_id and update.texts == [f"Not sent: **{consent['name']}** (you declined it)"]
    connector.clear()
    await server.post(answer(connector, user, consent, card_id, "accept"))
    assert connector.uploads == []
    assert [m.texts for m in connector.messages()] == [
        ["You declined that file. Say **my data** again whenever you want it."]]


async def test_declining_sends_no_file(server, connector):
    user = member(1)
    _, (consent,) = await ask_for_my_data(server, connector, user)
    connector.clear()
    status, _ = await server.post(A.invoke(connector.url, "fileConsent/invoke", {
        "type": "fileUpload", "action": "decline", "context": consent["content"]["declineContext"]}, user))
    assert status == 200
    assert connector.uploads == []
    (note,) = connector.messages()
    assert note.texts == ["Okay, no file. Say **my data** again whenever you want it."]


async def test_a_failed_upload_is_said_and_can_be_asked_again(server, connector):
    user = member(1)
    _, (consent,) = await ask_for_my_data(server, connector, user)
    connector.clear()
    connector.fail_uploads.append(503)
    status, _ = await server.post(A.invoke(connector.url, "fileConsent/invoke", {
        "type": "fileUpload", "action": "accept", "context": consent["content"]["acceptContext"],
        "uploadInfo": connector.upload_info(consent["name"])}, user))
    assert status == 200
    (note,) = connector.messages()
    assert note.texts[0].startswith("I couldn't upload the file just now")
    assert connector.uploads == [] and connector.updates() == []
    # the same card still works: nothing was sent, so nothing was recorded as sent
    status, _ = await server.post(A.invoke(connector.url, "fileConsent/invoke", {
        "type": "fileUpload", "action": "accept", "context": consent["content"]["acceptContext"],
        "uploadInfo": connector.upload_info(consent["name"])}, user))
    assert status == 200 and len(connector.uploads) == 1


async def test_a_consent_answer_for_something_else_is_refused(server, connector):
    user = member(1)
    for value in ({"type": "fileUpload", "action": "accept", "context": {"file": "someone-elses"},
                   "uploadInfo": connector.upload_info("x.json")},
                  {"type": "fileUpload", "action": "accept", "context": {"file": "my-data"}},      # no upload URL
                  {"type": "fileUpload", "action": "accept", "context": {"file": "my-data"},
                   "uploadInfo": {"uploadUrl": "file:///etc/passwd"}}):
        status, body = await server.post(A.invoke(connector.url, "fileConsent/invoke", value, user))
        assert status == 400 and json.loads(body)["type"] == "application/vnd.microsoft.error"
    assert connector.uploads == [] and connector.messages() == []
