"""Teams-shaped Activity JSON, as Teams posts it to a bot (personal chat, channel, card submits, updates)."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.bf_connector import member

BOT = {"id": "28:bot-app-id", "name": "skillcoach"}
TENANT = "tenant-1"
TEAM = {"id": "19:team-a@thread.tacv2", "name": "Team A", "aadGroupId": "group-a"}
GENERAL = "19:general-a@thread.tacv2"

_ids = itertools.count(1)


def _next_id() -> str:
    return f"1{next(_ids):012d}"


def event_key(activity: dict[str, Any]) -> str:
    """The deduplication key the adapter records for an activity."""
    conversation = activity["conversation"]["id"] if isinstance(activity.get("conversation"), dict) else ""
    return f"{conversation}|{activity['id']}"


def sender(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "name": user["name"], "aadObjectId": user["aadObjectId"]}


def personal_conversation(user: dict[str, Any]) -> dict[str, Any]:
    # the id the fake connector gives the 1:1 chat it creates for this member, so both paths agree
    return {"conversationType": "personal", "tenantId": TENANT, "id": f"a:personal-{user['id']}"}


def message(service_url: str, user: dict[str, Any] | None = None, text: str | None = "hi", *,
            value: dict[str, Any] | None = None, reply_to: str | None = None, id: str | None = None
            ) -> dict[str, Any]:
    user = user or member(1)
    activity: dict[str, Any] = {
        "type": "message",
        "id": id or _next_id(),
        "timestamp": "2026-11-27T10:00:00.000Z",
        "localTimestamp": "2026-11-27T11:00:00.000+01:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender(user),
        "conversation": personal_conversation(user),
        "recipient": BOT,
        "textFormat": "plain",
        "locale": "en-US",
        "entities": [{"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"}],
        "channelData": {"tenant": {"id": TENANT}},
    }
    if text is not None:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
    if reply_to:
        activity["replyToId"] = reply_to
    return activity


def submit(service_url: str, data: dict[str, Any], reply_to: str, user: dict[str, Any] | None = None,
           **inputs: Any) -> dict[str, Any]:
    """An Action.Submit press: Teams sends the action's data merged with the card's inputs."""
    return message(service_url, user, text=None, value={**data, **inputs}, reply_to=reply_to)


def channel_message(service_url: str, user: dict[str, Any] | None = None, text: str = "grow", *,
                    mention: bool = True, others: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A channel message; `others` are people mentioned in `text` as <at>Name</at>."""
    user = user or member(1)
    mid = _next_id()
    body = f"<at>{BOT['name']}</at> {text}" if mention else text
    activity = message(service_url, user, body, id=mid)
    activity["conversation"] = {"isGroup": True, "conversationType": "channel", "tenantId": TENANT,
                                "id": f"{GENERAL};messageid={mid}"}
    activity["channelData"] = {
        "teamsChannelId": GENERAL, "teamsTeamId": TEAM["id"],
        "channel": {"id": GENERAL}, "team": TEAM, "tenant": {"id": TENANT},
    }
    entities = [{"type": "mention", "text": f"<at>{BOT['name']}</at>",
                 "mentioned": {"id": BOT["id"], "name": BOT["name"]}}] if mention else []
    entities += [{"type": "mention", "text": f"<at>{o['name']}</at>",
                  "mentioned": {"id": o["id"], "name": o["name"]}} for o in others]
    activity["entities"] = entities
    return activity


def bot_installed_personal(service_url: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
    user = user or member(1)
    return {
        "type": "conversationUpdate",
        "id": _next_id(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender(user),
        "conversation": personal_conversation(user),
        "recipient": BOT,
        "membersAdded": [{"id": BOT["id"]}],
        "channelData": {"tenant": {"id": TENANT}},
    }


def installation_update(service_url: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
    user = user or member(1)
    return {
        "type": "installationUpdate",
        "action": "add",
        "id": _next_id(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender(user),
        "conversation": personal_conversation(user),
        "recipient": BOT,
        "channelData": {"tenant": {"id": TENANT}, "source": {"name": "message"}},
    }


def team_members_added(service_url: str, added: list[dict[str, Any]], by: dict[str, Any] | None = None
                       ) -> dict[str, Any]:
    """conversationUpdate in a team: the bot (`BOT`) or users were added."""
    by = by or member(1)
    return {
        "type": "conversationUpdate",
        "id": _next_id(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender(by),
        "conversation": {"isGroup": True, "conversationType": "channel", "tenantId": TENANT, "id": GENERAL},
        "recipient": BOT,
        "membersAdded": [{"id": m["id"], **({"aadObjectId": m["aadObjectId"]} if "aadObjectId" in m else {})}
                         for m in added],
        "channelData": {"team": TEAM, "eventType": "teamMemberAdded", "tenant": {"id": TENANT}},
    }


# -- documented payload shapes (Microsoft Teams platform docs), with this test's users and connector ----------
GROUP_CHAT = "19:groupChatId@thread.v2"
THREAD_CHANNEL = "19:aebd0ad4d6ab42c8b9ed19c251c2fc37@thread.skype"


def _mention_entity() -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{BOT['name']}</at>", "mentioned": {"id": BOT["id"], "name": BOT["name"]}}


def group_chat_mention(service_url: str, user: dict[str, Any], text: str = "grow") -> dict[str, Any]:
    """A group chat message that @-mentions the bot: conversationType groupChat, isGroup, a @thread.v2 id,
    no team (the documented group chat sample)."""
    return {
        "text": f"<at>{BOT['name']}</at> {text}",
        "textFormat": "plain",
        "type": "message",
        "id": _next_id(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": sender(user),
        "conversation": {"isGroup": True, "conversationType": "groupChat", "tenantId": TENANT, "id": GROUP_CHAT},
        "recipient": BOT,
        "entities": [_mention_entity()],
        "channelData": {"tenant": {"id": TENANT}},
    }


def mentions_sample(service_url: str, user: dict[str, Any], text: str = "grow") -> dict[str, Any]:
    """The documented "mentions" sample: a channel thread id (`…@thread.skype;messageid=…`), no
    conversationType, no channelData at all (so no tenant either)."""
    return {
        "type": "message",
        "id": _next_id(),
        "text": f"<at>{BOT['name']}</at> {text}",
        "timestamp": "2017-10-29T00:51:05.9908157Z",
        "localTimestamp": "2017-10-28T17:51:05.9908157-07:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender(user),
        "conversation": {"id": f"{THREAD_CHANNEL};messageid=1481567603816"},
        "recipient": BOT,
        "entities": [_mention_entity()],
        "replyToId": "3UP4UTkzUk1zzeyW",
    }


def channel_thread_without_type(service_url: str, user: dict[str, Any], text: str = "grow") -> dict[str, Any]:
    """The documented channel shape of older clients (the messageBack sample): a thread id, channelData with
    channel, team and tenant, and no conversationType."""
    activity = mentions_sample(service_url, user, text)
    activity["conversation"] = {"id": f"{THREAD_CHANNEL};messageid=1498171086622"}
    activity["channelData"] = {"channel": {"id": THREAD_CHANNEL}, "team": {"id": "19:12d021jdoijsaeoaue0u@thread.skype"},
                               "tenant": {"id": TENANT}}
    activity["entities"] = [{"locale": "en-US", "country": "US", "platform": "Windows", "type": "clientInfo"},
                            _mention_entity()]
    return activity


def emulator_chat(service_url: str, user: dict[str, Any], text: str = "hi") -> dict[str, Any]:
    """A 1:1 chat as the Bot Framework Emulator sends it: no conversationType, no channelData."""
    return {"type": "message", "id": _next_id(), "text": text, "serviceUrl": service_url, "channelId": "emulator",
            "from": {"id": user["id"], "name": user["name"]}, "conversation": {"id": f"emulator-{user['id']}|livechat"},
            "recipient": BOT}


def execute(service_url: str, data: dict[str, Any], user: dict[str, Any] | None = None, *,
            conversation: dict[str, Any] | None = None, verb: str = "answer", reply_to: str | None = None,
            channel_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Action.Execute press (Universal Actions): invoke `adaptiveCard/action` with the action's data merged
    with the card's inputs, as documented."""
    user = user or member(1)
    activity: dict[str, Any] = {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": _next_id(),
        "timestamp": "2026-11-27T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender(user),
        "conversation": conversation or personal_conversation(user),
        "recipient": BOT,
        "locale": "en-US",
        "entities": [{"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"}],
        "channelData": channel_data or {"tenant": {"id": TENANT}, "source": {"name": "message"}},
        "value": {"action": {"type": "Action.Execute", "id": "action-1", "verb": verb, "data": data},
                  "trigger": "manual"},
    }
    if reply_to:
        activity["replyToId"] = reply_to
    return activity


def invoke(service_url: str, name: str | None, value: Any = None, user: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    """Any other invoke (messaging extensions, task modules, sign-in …), in a personal chat."""
    user = user or member(1)
    activity: dict[str, Any] = {
        "type": "invoke", "id": _next_id(), "serviceUrl": service_url, "channelId": "msteams",
        "from": sender(user), "conversation": personal_conversation(user), "recipient": BOT,
        "channelData": {"tenant": {"id": TENANT}, "source": {"name": "compose"}},
    }
    if name is not None:
        activity["name"] = name
    if value is not None:
        activity["value"] = value
    return activity
