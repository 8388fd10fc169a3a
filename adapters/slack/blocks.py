"""Neutral replies → Block Kit messages, within Slack's limits.

Pure functions: `render(reply)` returns the messages (each `{"text", "blocks"}`) to post for one
`Reply`; `home_view(summary)` returns the App Home view. Pressable elements carry the reply's
`prompt_id` in their block id (`prompt|<prompt_id>`), so a press names the question it answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.slack import texts as T
from bot import mydata
from bot.types import Card, Choice, Reply, numbered_text

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks)
MAX_BLOCKS = 50            # blocks in one message
MAX_HOME_BLOCKS = 100      # blocks in a Home tab view
MAX_SECTION_TEXT = 3000    # characters in a section's text
MAX_FIELD_TEXT = 2000      # characters in one section field
MAX_FIELDS = 10            # fields in one section
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_BUTTON_VALUE = 2000
MAX_BUTTONS = 5            # more choices than this become a static_select (our readability choice)
MAX_CHECKBOXES = 10        # more than this become a multi_static_select
MAX_OPTIONS = 100          # options in a select
MAX_BLOCK_ID = 255
MAX_FALLBACK = 3000        # characters of the top-level `text` fallback we send

# Action ids of the elements we render; adapters/slack/listeners.py registers a listener for each.
CHOOSE = "choose"                 # buttons: choose:0, choose:1, …
CHOOSE_SELECT = "choose_select"   # static_select of one choice
PICK_MANY = "pick_many"           # checkboxes / multi_static_select (state only, read on submit)
SUBMIT_MANY = "submit_many"       # the Submit button of a multi-select

PROMPT_PREFIX = "prompt|"

# App Home buttons: action id → (command, text) of the Incoming a press becomes.
HOME_ACTIONS: dict[str, tuple[str | None, str]] = {
    "home_start": ("grow", ""),
    "home_plan": (None, "my plan"),
    "home_restart": (None, "restart"),
    "home_reminders_off": (None, "stop reminders"),
    "home_reminders_on": (None, "resume reminders"),
    "home_sharing_on": (None, "share my progress"),
    "home_sharing_off": (None, "stop sharing"),
    "home_data": (None, "my data"),
    "home_forget": (None, "forget me"),
}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def prompt_block_id(prompt_id: str | None) -> str:
    return (PROMPT_PREFIX + (prompt_id or ""))[:MAX_BLOCK_ID]


def prompt_of(block_id: str | None) -> str | None:
    """The prompt id carried in a block id, or None."""
    if isinstance(block_id, str) and block_id.startswith(PROMPT_PREFIX):
        return block_id[len(PROMPT_PREFIX):] or None
    return None


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split text into chunks of at most `limit` characters, at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one line longer than a whole chunk: cut it (at a space if any)
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def _plain(text: str, limit: int) -> dict[str, Any]:
    text = text.strip() or "…"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_sections(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in split_text(escape(text))]


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """A plan or report card: header, summary, one part per section (fields for facts), image."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(card.title, MAX_HEADER_TEXT)}]
    if card.summary:
        blocks.extend(text_sections(card.summary))
    for section in card.sections:
        blocks.append({"type": "divider"})
        lines = list(section.lines)
        if section.heading:
            heading = f"*{escape(section.heading)}*"
            body = escape("\n".join(lines)) if lines else ""
            first = f"{heading}\n{body}" if body else heading
            chunks = split_text(first)
            blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks)
        elif lines:
            blocks.extend(text_sections("\n".join(lines)))
        facts = [
            {"type": "mrkdwn", "text": _cut(f"*{escape(label)}*\n{escape(value)}", MAX_FIELD_TEXT)}
            for label, value in section.facts
        ]
        for start in range(0, len(facts), MAX_FIELDS):
            blocks.append({"type": "section", "fields": facts[start:start + MAX_FIELDS]})
    for url, alt in card.all_images:
        blocks.append({"type": "image", "image_url": url, "alt_text": _cut(alt or card.title, 2000)})
    return blocks


def _option(choice: Choice) -> dict[str, Any]:
    option: dict[str, Any] = {
        "text": _plain(choice.label, MAX_OPTION_TEXT),
        "value": choice.value[:MAX_OPTION_VALUE],
    }
    if choice.description:
        option["description"] = _plain(choice.description, MAX_OPTION_TEXT)
    return option


def choice_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The pressable part of a question: buttons, a select, or checkboxes with a Submit button."""
    block_id = prompt_block_id(reply.prompt_id)
    choices = list(reply.choices)
    blocks: list[dict[str, Any]] = []
    if reply.multi:
        options = [_option(c) for c in choices[:MAX_OPTIONS]]
        if len(options) <= MAX_CHECKBOXES:
            picker: dict[str, Any] = {"type": "checkboxes", "action_id": PICK_MANY, "options": options}
        else:
            picker = {
                "type": "multi_static_select",
                "action_id": PICK_MANY,
                "placeholder": _plain(T.PICK_PLACEHOLDER, 150),
                "options": options,
            }
        submit = {
            "type": "button",
            "action_id": SUBMIT_MANY,
            "text": _plain(T.SUBMIT, MAX_BUTTON_TEXT),
            "style": "primary",
            "value": (reply.prompt_id or "")[:MAX_BUTTON_VALUE],
        }
        blocks.append({"type": "actions", "block_id": block_id, "elements": [picker, submit]})
        return blocks
    if len(choices) <= MAX_BUTTONS:
        described = [c for c in choices if c.description]
        if described:
            lines = "\n".join(f"• *{escape(c.label)}* — {escape(c.description or '')}" for c in described)
            blocks.extend({"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]}
                          for chunk in split_text(lines))
        buttons = [
            {
                "type": "button",
                "action_id": f"{CHOOSE}:{i}",
                "text": _plain(c.label, MAX_BUTTON_TEXT),
                "value": c.value[:MAX_BUTTON_VALUE],
            }
            for i, c in enumerate(choices)
        ]
        blocks.append({"type": "actions", "block_id": block_id, "elements": buttons})
        return blocks
    select = {
        "type": "static_select",
        "action_id": CHOOSE_SELECT,
        "placeholder": _plain(T.CHOOSE_PLACEHOLDER, 150),
        "options": [_option(c) for c in choices[:MAX_OPTIONS]],
    }
    blocks.append({"type": "actions", "block_id": block_id, "elements": [select]})
    return blocks


def file_message(reply: Reply) -> dict[str, Any]:
    """Machine-readable content (the `my data` export) as a file to upload: `{"text", "file"}`, where
    `file` holds the name, title and JSON content (the adapter uploads it; it can wait in the outbox)."""
    name = reply.attachment_name or "data.json"
    return {"text": T.DATA_FILE.format(name=name),
            "file": {"filename": name, "title": name, "content": mydata.as_json(reply.attachment or {})}}


def file_as_text(file: dict[str, Any]) -> list[dict[str, Any]]:
    """A file that could not be uploaded, as messages of code blocks (nothing is lost)."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {
        "type": "mrkdwn", "text": T.DATA_FILE_FAILED.format(name=escape(str(file.get("filename", ""))))}}]
    fence = 8  # the ``` before and after, and their newlines
    for chunk in split_text(escape(str(file.get("content", "")).rstrip("\n")), MAX_SECTION_TEXT - fence):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```\n{chunk}\n```"}})
    return [{"text": T.DATA_FALLBACK, "blocks": blocks[start:start + MAX_BLOCKS]}
            for start in range(0, len(blocks), MAX_BLOCKS)]


def _fallback(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_FALLBACK else text[: MAX_FALLBACK - 1] + "…"


def _block_text(blocks: Iterable[dict[str, Any]]) -> str:
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and text.get("text"):
            return text["text"]
    return ""


def render(reply: Reply) -> list[dict[str, Any]]:
    """The messages (`{"text", "blocks"}`) that show one reply; several when it exceeds 50 blocks."""
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.extend(text_sections(reply.text))
    if reply.card is not None:
        blocks.extend(card_blocks(reply.card))
    if reply.choices:
        blocks.extend(choice_blocks(reply))
    if not blocks:
        return [file_message(reply)] if reply.attachment is not None else []
    messages: list[dict[str, Any]] = []
    for start in range(0, len(blocks), MAX_BLOCKS):
        part = blocks[start:start + MAX_BLOCKS]
        if start == 0:
            candidates = (reply.text, reply.card.title if reply.card else "", _block_text(part))
            fallback = next((c for c in candidates if c and c.strip()), "")
        else:
            fallback = f"{T.CONTINUED} {_block_text(part)}"
        messages.append({"text": _fallback(fallback) or T.DATA_FALLBACK, "blocks": part})
    if reply.attachment is not None:
        messages.append(file_message(reply))   # after the summary: the upload shows below it
    return messages


def answer_messages(replies: list[Reply]) -> list[tuple[dict[str, Any], str]]:
    """A turn's replies as the fewest messages, each with its plain-text form: the blocks of consecutive
    replies share one message while they fit Slack's 50 blocks (files stay messages of their own).

    One message per turn, not one per reply: a person gets one notification for one answer, and Slack's
    limit of about one message a second per conversation is not spent on an answer's parts. The top-level
    `text` (notifications, screen readers) is the parts' fallbacks joined."""
    merged: list[tuple[dict[str, Any], str]] = []
    for reply in replies:
        plain = numbered_text(reply)
        for message in render(reply):
            if merged and "file" not in message and "file" not in merged[-1][0] and (
                    len(merged[-1][0]["blocks"]) + len(message["blocks"]) <= MAX_BLOCKS):
                previous, previous_plain = merged[-1]
                merged[-1] = ({"text": _fallback(f"{previous['text']}\n\n{message['text']}"),
                               "blocks": previous["blocks"] + message["blocks"]}, f"{previous_plain}\n\n{plain}")
            else:
                merged.append((message, plain))
    return merged


def chosen_blocks(blocks: list[dict[str, Any]], block_id: str, label: str) -> list[dict[str, Any]]:
    """A pressed message's blocks with the question's elements replaced by the choice made."""
    kept = [b for b in blocks if not (isinstance(b, dict) and b.get("block_id") == block_id)]
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": T.YOU_CHOSE.format(
        label=escape(label) if label else T.NOTHING_CHOSEN)[:3000]}]})
    return kept[:MAX_BLOCKS]


def home_view(summary: Any) -> dict[str, Any]:
    """The App Home tab for one user, from `bot.core.HomeSummary`."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(T.HOME_TITLE, MAX_HEADER_TEXT)}]

    def button(action_id: str, label: str, style: str | None = None) -> dict[str, Any]:
        b: dict[str, Any] = {"type": "button", "action_id": action_id, "text": _plain(label, MAX_BUTTON_TEXT),
                             "value": action_id}
        if style:
            b["style"] = style
        return b

    if summary.has_profile and summary.plan_title:
        lines = [T.HOME_PLAN.format(title=escape(summary.plan_title))]
        if summary.path:
            lines.append(T.HOME_PATH.format(path=escape(T.PATH_NAMES.get(summary.path, summary.path))))
        if summary.progress_total:
            done, total = summary.progress_done, summary.progress_total
            filled = round(10 * done / total) if total else 0
            bar = "▰" * filled + "▱" * (10 - filled)
            lines.append(T.HOME_PROGRESS.format(bar=bar, done=done, total=total))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
        buttons = [button("home_plan", T.BUTTON_SHOW_PLAN, "primary"), button("home_restart", T.BUTTON_RESTART)]
        if summary.in_interview:
            buttons.insert(0, button("home_start", T.BUTTON_RESUME))
        blocks.append({"type": "actions", "block_id": "home_plan_actions", "elements": buttons})
    elif summary.in_interview:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": T.HOME_IN_INTERVIEW}})
        blocks.append({"type": "actions", "block_id": "home_start_actions",
                       "elements": [button("home_start", T.BUTTON_RESUME, "primary")]})
    else:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": T.HOME_NO_PLAN}})
        blocks.append({"type": "actions", "block_id": "home_start_actions",
                       "elements": [button("home_start", T.BUTTON_START, "primary")]})

    blocks.append({"type": "divider"})
    reminders = T.HOME_REMINDERS_ON if summary.reminders else T.HOME_REMINDERS_OFF
    sharing = T.HOME_SHARING_ON if summary.sharing else T.HOME_SHARING_OFF
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": reminders},
                   "accessory": button("home_reminders_off", T.BUTTON_STOP_REMINDERS) if summary.reminders
                   else button("home_reminders_on", T.BUTTON_RESUME_REMINDERS)})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": sharing},
                   "accessory": button("home_sharing_off", T.BUTTON_STOP_SHARING) if summary.sharing
                   else button("home_sharing_on", T.BUTTON_SHARE)})
    blocks.append({"type": "divider"})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": T.HOME_PRIVACY}]})
    blocks.append({"type": "actions", "block_id": "home_data_actions",
                   "elements": [button("home_data", T.BUTTON_MY_DATA),
                                button("home_forget", T.BUTTON_FORGET, "danger")]})

    card = getattr(summary, "plan_card", None)
    if isinstance(card, Card):
        room = MAX_HOME_BLOCKS - len(blocks) - 1
        plan = card_blocks(card)
        if room > 1:
            blocks.append({"type": "divider"})
            blocks.extend(plan[:room])
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}
