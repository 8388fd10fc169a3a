"""`my data` in Teams, over HTTP: a short summary, then a file consent card; accepting it uploads the export
(a PUT to the upload URL Teams gives) and shows a file card; declining says so; nothing else is accepted."""

from __future__ import annotations

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
