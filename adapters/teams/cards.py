"""Render neutral `Reply` objects as Teams messages (Adaptive Cards 1.5), and read card submits back.

Teams limits handled here: a message is at most ~28 KB, so text and cards are split below `MAX_BYTES`;
at most 5 buttons are shown as buttons (more choices become a choice set); a submitted card is replaced
by a read-only copy that shows what was chosen (`answered_card`).

The data a card submit carries is defined only in this module: `{"choice": value, "prompt_id": …}` for
a button, `{"prompt_id": …, "_values": [...], "selection": "0,2"}` for a choice set (the set's values
are indexes, so choice values may contain commas), `{"command": "grow"}` for the welcome button.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment

from adapters.teams import messages as T
from bot import messages as M
from bot import mydata
from bot.types import Card, Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
FILE_CONSENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_TYPE = "application/vnd.microsoft.teams.card.file.info"
MY_DATA_FILE = "my-data"    # the file consent card's context: which file the person agreed to receive
CARD_VERSION = "1.5"
MAX_BYTES = 24_000          # below Teams' ~28 KB per message, leaving room for the activity envelope
MAX_TEXTBLOCK = 6_000       # one TextBlock's text
MAX_BUTTONS = 5             # single choices shown as buttons up to this many
MAX_EXPANDED = 5            # a choice set is drawn expanded (radio buttons / checkboxes) up to this many
MAX_LABEL = 200
FACTS_PER_SET = 20
SELECTION_INPUT = "selection"
COMMANDS_FROM_CARDS = frozenset({"grow", "help"})

_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def teams_markdown(text: str) -> str:
    """The core's light markdown (`*bold*`) in Teams' dialect (`**bold**`); leading spaces become
    non-breaking ones, so an indented line is not taken for a code block."""
    text = _BOLD.sub(r"**\1**", text)
    return _INDENT.sub(lambda m: "\u00a0" * len(m.group(0).expandtabs(4)), text)


def _size(obj: Any) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` UTF-8 bytes, on line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line.encode("utf-8")) > limit:  # a single over-long line: cut it
            cut = limit
            while len(line[:cut].encode("utf-8")) > limit:
                cut -= max(1, (len(line[:cut].encode("utf-8")) - limit) // 4)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate.encode("utf-8")) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def text_blocks(text: str, **style: Any) -> list[dict[str, Any]]:
    return [
        {"type": "TextBlock", "text": piece, "wrap": True, **style}
        for piece in split_text(teams_markdown(text), MAX_TEXTBLOCK)
        if piece.strip()
    ]


def adaptive_card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card


def card_body(card: Card) -> list[dict[str, Any]]:
    """A plan or report card: title, summary, headed sections of facts and lines, an image."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "id": f"card-{card.kind}", "text": teams_markdown(card.title), "size": "Large",
         "weight": "Bolder", "wrap": True, "style": "heading"}
    ]
    if card.summary:
        body.extend(text_blocks(card.summary, isSubtle=True))
    for url, alt in card.all_images:
        body.append({"type": "Image", "url": url, "altText": alt or card.title, "size": "Stretch"})
    for section in card.sections:
        if section.heading:
            body.append({"type": "TextBlock", "text": teams_markdown(section.heading), "size": "Medium",
                         "weight": "Bolder", "wrap": True, "separator": True, "spacing": "Medium"})
        facts = [{"title": teams_markdown(label)[:MAX_LABEL], "value": teams_markdown(value)[:MAX_TEXTBLOCK]}
                 for label, value in section.facts]
        for start in range(0, len(facts), FACTS_PER_SET):  # small sets, so a long card can be split
            body.append({"type": "FactSet", "facts": facts[start:start + FACTS_PER_SET]})
        if section.lines:
            body.extend(text_blocks("\n".join(section.lines)))
    return body


def _question(reply: Reply) -> str:
    return reply.text.strip().split("\n")[0][:300] if reply.text else ""


def choice_parts(reply: Reply) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Body elements and actions for a question: buttons (≤ 5 single choices) or a choice set + Submit."""
    q = _question(reply)
    base: dict[str, Any] = {"prompt_id": reply.prompt_id} if reply.prompt_id else {}
    if not reply.multi and len(reply.choices) <= MAX_BUTTONS:
        body = []
        described = [c for c in reply.choices if c.description]
        if described:
            body.append({"type": "FactSet", "facts": [
                {"title": c.label[:MAX_LABEL], "value": teams_markdown(c.description or "")} for c in described
            ]})
        actions = [
            {"type": "Action.Submit", "title": c.label[:MAX_LABEL],
             "data": {**base, "choice": c.value, "_label": c.label[:MAX_LABEL], "_q": q}}
            for c in reply.choices
        ]
        return body, actions
    many = len(reply.choices) > (10 if reply.multi else MAX_EXPANDED)
    choice_set: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": SELECTION_INPUT,
        "label": T.LABEL_MANY if reply.multi else T.LABEL_ONE,  # every input is labelled (required or not)
        "style": "compact" if many else "expanded",
        "isMultiSelect": reply.multi,
        "choices": [
            {"title": (f"{c.label} — {c.description}" if c.description else c.label)[:MAX_LABEL * 2],
             "value": str(i)}
            for i, c in enumerate(reply.choices)
        ],
        "wrap": True,
    }
    if not reply.multi:
        choice_set["isRequired"] = True
        choice_set["errorMessage"] = T.PICK_ONE
    data = {**base, "_values": [c.value for c in reply.choices],
            "_labels": [c.label[:MAX_LABEL] for c in reply.choices], "_multi": reply.multi, "_q": q}
    actions = [{"type": "Action.Submit", "title": T.DONE if reply.multi else T.SUBMIT, "data": data}]
    return [choice_set], actions


@dataclass(frozen=True)
class Message:
    """One outgoing Teams message: markdown text, an Adaptive Card (with its text inside), or another
    attachment (a file consent card, a file info card: `{"contentType", "name", "content", "contentUrl"}`)."""

    text: str = ""
    card: dict[str, Any] | None = None
    attachment: dict[str, Any] | None = None

    def activity(self) -> Activity:
        if self.attachment is not None:
            a = self.attachment
            return Activity(type=ActivityTypes.message, text=self.text or None, attachments=[Attachment(
                content_type=a["contentType"], name=a.get("name"), content=a.get("content"),
                content_url=a.get("contentUrl"))])
        if self.card is None:
            return Activity(type=ActivityTypes.message, text=self.text, text_format="markdown")
        return Activity(
            type=ActivityTypes.message,
            attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=self.card)],
        )


def _cards(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> list[Message]:
    """Split a long body into several cards under the size limit; actions go on the last one."""
    messages: list[Message] = []
    current: list[dict[str, Any]] = []
    for element in body:
        if current and _size(adaptive_card(current + [element])) > MAX_BYTES:
            messages.append(Message(card=adaptive_card(current)))
            current = []
        current.append(element)
    if current and actions and _size(adaptive_card(current, actions)) > MAX_BYTES:
        messages.append(Message(card=adaptive_card(current)))
        current = []
    messages.append(Message(card=adaptive_card(current, actions)))
    return messages


def render(reply: Reply) -> list[Message]:
    """One neutral reply as one or more Teams messages, each under the size limit."""
    messages: list[Message] = []
    if reply.card is None and not reply.choices:
        if reply.text:
            messages.extend(Message(text=piece) for piece in split_text(teams_markdown(reply.text), MAX_BYTES))
    else:
        body: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        if reply.text and not (reply.card is not None and reply.text.strip() == reply.card.title.strip()):
            body.extend(text_blocks(reply.text))
        if reply.card is not None:
            body.extend(card_body(reply.card))
        if reply.choices:
            extra, actions = choice_parts(reply)
            body.extend(extra)
        messages.extend(_cards(body, actions))
    if reply.attachment is not None:
        messages.extend(attachment_messages(reply))
    return messages or [Message(text="…")]


def attachment_messages(reply: Reply) -> list[Message]:
    """Machine-readable content (the `my data` export) as a file: Teams asks the person first (a file
    consent card, personal chats only); their accept comes back as a `fileConsent/invoke` with an upload
    URL in their OneDrive (`FileConsent.answer`, adapters/teams/file_consent.py). The content is made
    again then, fresh."""
    name = reply.attachment_name or "data.json"
    size = len(mydata.as_json(reply.attachment or {}).encode("utf-8"))
    context = {"file": MY_DATA_FILE, "name": name}
    return [Message(attachment={"contentType": FILE_CONSENT_TYPE, "name": name, "content": {
        "description": T.FILE_DESCRIPTION, "sizeInBytes": size, "acceptContext": context,
        "declineContext": context}})]


def file_info_message(upload_info: dict[str, Any]) -> Message:
    """The uploaded file, shown in the chat (a file info card pointing at it in the person's OneDrive)."""
    return Message(attachment={"contentType": FILE_INFO_TYPE, "name": upload_info.get("name"),
                               "contentUrl": upload_info.get("contentUrl"),
                               "content": {"uniqueId": upload_info.get("uniqueId"),
                                           "fileType": upload_info.get("fileType")}})


def welcome_message() -> Message:
    body = [
        {"type": "TextBlock", "text": M.INSTALL_WELCOME_TITLE, "size": "Large", "weight": "Bolder", "wrap": True},
        *text_blocks(M.INSTALL_WELCOME),
    ]
    actions = [{"type": "Action.Submit", "title": M.INSTALL_WELCOME_BUTTON, "data": {"command": "grow"}}]
    return Message(card=adaptive_card(body, actions))


# -- reading submits back -----------------------------------------------------------------------
@dataclass(frozen=True)
class Submit:
    """What a card submit means, in the terms of `Incoming`."""

    choice: str | None = None
    choices: tuple[str, ...] | None = None
    prompt_id: str | None = None
    command: str | None = None
    label: str = ""            # what was chosen, for the answered card and Incoming.text
    question: str = ""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_submit(value: Any) -> Submit | None:
    """The meaning of `activity.value` from one of our cards; None if it is not from one."""
    if not isinstance(value, dict):
        return None
    prompt_id = _str(value.get("prompt_id"))
    question = _str(value.get("_q")) or ""
    command = _str(value.get("command"))
    if command is not None:
        return Submit(command=command) if command in COMMANDS_FROM_CARDS else None
    choice = _str(value.get("choice"))
    if choice is not None:
        return Submit(choice=choice, prompt_id=prompt_id, label=_str(value.get("_label")) or choice,
                      question=question)
    values = value.get("_values")
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        labels = value.get("_labels")
        if not (isinstance(labels, list) and len(labels) == len(values) and all(isinstance(x, str) for x in labels)):
            labels = list(values)
        raw = value.get(SELECTION_INPUT)
        picked: list[int] = []
        if isinstance(raw, str):
            for part in raw.split(","):
                part = part.strip()
                if part.isdigit() and int(part) < len(values) and int(part) not in picked:
                    picked.append(int(part))
        elif isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(values):
            picked.append(raw)
        chosen = [values[i] for i in picked]
        label = ", ".join(labels[i] for i in picked)
        if value.get("_multi") is True:
            return Submit(choices=tuple(chosen), prompt_id=prompt_id, label=label, question=question)
        if chosen:
            return Submit(choice=chosen[0], prompt_id=prompt_id, label=label, question=question)
        return Submit(prompt_id=prompt_id, question=question)
    return None


def answered_card(submit: Submit) -> dict[str, Any]:
    """The read-only copy of a submitted question card: the question and what was chosen."""
    body: list[dict[str, Any]] = []
    if submit.question:
        body.extend(text_blocks(submit.question))
    chosen = T.CHOSEN.format(label=submit.label) if submit.label else T.CHOSEN_NONE
    body.append({"type": "TextBlock", "text": chosen, "weight": "Bolder", "color": "Good", "wrap": True})
    return adaptive_card(body)
