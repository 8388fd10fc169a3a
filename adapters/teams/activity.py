"""Reading a Teams activity: who sent it, what they said, and whether it was addressed to the bot.

The pieces `SkillcoachTeamsBot` builds an `Incoming` from: the sender's id for the core (`user_id_of`),
their email and name from the roster (`member_of`, cached by the runtime), the text without the bot's
@-mention (`strip_mention`, `clean_text`) and the command words (`command_of`), as Slack's slash
commands are.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ChannelAccount

from adapters.teams.conversations import TEAMS_CHANNEL
from adapters.teams.errors import unreachable

if TYPE_CHECKING:
    from adapters.teams.runtime import TeamsRuntime

log = logging.getLogger("skillcoach.teams")

_SPACES = re.compile(r"[ \t\u00a0]+")
_AT_TAG = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)

# Words that are commands (as Slack's slash commands are); everything else goes to the core as text.
_COMMAND_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("nudge team", "nudge-team"), "nudge-team"),
    (("team skills", "team-skills"), "team-skills"),
    (("grow",), "grow"),
)


def command_of(text: str) -> tuple[str | None, str]:
    """`grow`, `nudge team …`, `team skills …` as (command, arguments); other text as (None, text)."""
    words = text.strip().lstrip("/")
    lowered = words.lower()
    for phrases, command in _COMMAND_WORDS:
        for phrase in phrases:
            if lowered == phrase or lowered.startswith(phrase + " "):
                return command, words[len(phrase):].strip()
    return None, text.strip()


def _bot_mentions(activity: Activity) -> list[dict[str, Any]]:
    """The mention entities that name the bot (tolerating entities of any shape)."""
    bot_id = activity.recipient.id if activity.recipient else None
    found = []
    for entity in activity.entities or []:
        if not isinstance(entity.type, str) or entity.type.lower() != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned")
        if isinstance(mentioned, dict) and bot_id and mentioned.get("id") == bot_id:
            found.append(props)
    return found


def strip_mention(activity: Activity) -> str:
    """The message text without the @-mention of the bot; other people's mentions keep their names."""
    mentions = _bot_mentions(activity)
    text = activity.text or ""
    if mentions:
        try:
            text = TurnContext.remove_recipient_mention(activity) or ""
        except (re.error, KeyError, TypeError, AttributeError):
            pass  # botbuilder uses the mention text as a regular expression; the loop below does it plainly
        for props in mentions:
            if isinstance(props.get("text"), str) and props["text"]:
                text = text.replace(props["text"], "")
    return _AT_TAG.sub(lambda m: m.group(1), text)


def mentions_bot(activity: Activity) -> bool:
    return bool(_bot_mentions(activity))


def clean_text(text: str) -> str:
    """Entities decoded, runs of spaces collapsed, line breaks kept."""
    lines = (_SPACES.sub(" ", line).strip() for line in html.unescape(text).replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def user_id_of(account: ChannelAccount | None) -> str | None:
    """The user's id for the core: the AAD object id when Teams gives one (the organisation file's
    `teams_id`), else the channel account id (Emulator)."""
    if account is None:
        return None
    return account.aad_object_id or account.id


async def member_of(runtime: TeamsRuntime, turn_context: TurnContext) -> tuple[str | None, str | None]:
    """The sender's email and name from the Teams roster (cached); (None, None) outside Teams."""
    activity = turn_context.activity
    member_id = activity.from_property.id if activity.from_property else None
    if not member_id or activity.channel_id != TEAMS_CHANNEL:
        return None, None
    cached = runtime.cached_member(member_id)
    if cached is not None:
        return cached
    email = name = None
    try:
        member = await TeamsInfo.get_member(turn_context, member_id)
        email = member.email or member.user_principal_name
        name = member.name
    except Exception as exc:  # the roster is a nicety: the turn goes on without an email
        # an unreachable connector is reported once, by the turn that then fails to answer
        (log.debug if unreachable(exc) else log.info)("could not read the Teams member %s: %s", member_id, exc)
        return None, None
    runtime.cache_member(member_id, email, name)
    return email, name
