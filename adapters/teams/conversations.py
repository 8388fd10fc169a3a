"""What an activity or a stored address says about its conversation: personal or not, its team, its tenant,
the ConversationReference kept for proactive messages. Shared by the handler, the messenger and the runtime
(so none of them imports another for these).

A conversation is personal only when `conversation.conversationType` is "personal", or — when Teams (or
the Emulator) leaves it out — when nothing marks it as a channel or group: no `channelData.team` or
`channelData.channel`, no `conversation.isGroup`, no `@thread` in the id (team channels and group chats
have `19:…@thread.…` ids) and no `;messageid=` (a reply thread in a channel).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

TEAMS_CHANNEL = "msteams"
PERSONAL = "personal"


def _looks_shared(conversation_id: Any, is_group: Any) -> bool:
    if is_group is True:
        return True
    if isinstance(conversation_id, str):
        lowered = conversation_id.lower()
        return "@thread" in lowered or ";messageid=" in lowered
    return False


def _decided_by_type(kind: Any) -> bool | None:
    """True/False when conversationType says it; None when it is absent."""
    if isinstance(kind, str) and kind.strip():
        return kind.strip().lower() == PERSONAL
    return None


def is_personal(activity: Activity) -> bool:
    """Whether the activity comes from a 1:1 chat between the bot and one person."""
    conversation = activity.conversation
    if conversation is None:
        return False
    decided = _decided_by_type(conversation.conversation_type)
    if decided is not None:
        return decided
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    if data.get("team") or data.get("channel"):
        return False
    return not _looks_shared(conversation.id, conversation.is_group)


def is_personal_address(address: Any) -> bool:
    """Whether a stored address (a serialised ConversationReference) is a 1:1 chat."""
    if not isinstance(address, dict):
        return False
    conversation = address.get("conversation")
    if not isinstance(conversation, dict) or not conversation.get("id"):
        return False
    decided = _decided_by_type(conversation.get("conversationType"))
    if decided is not None:
        return decided
    return not _looks_shared(conversation.get("id"), conversation.get("isGroup"))


def tenant_of(activity: Activity) -> str | None:
    """The tenant id: Teams puts it in channelData.tenant.id and conversation.tenantId (botbuilder's schema
    calls the latter `tenantID`, so it lands in additional properties)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else {}
    if isinstance(tenant.get("id"), str) and tenant["id"]:
        return tenant["id"]
    conversation = activity.conversation
    if conversation is not None:
        if conversation.tenant_id:
            return conversation.tenant_id
        extra = getattr(conversation, "additional_properties", None) or {}
        if isinstance(extra.get("tenantId"), str):
            return extra["tenantId"]
    return None


def team_of(activity: Activity) -> dict[str, Any] | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str) and team["id"]:
        return team
    return None


def address_of(activity: Activity) -> dict[str, Any]:
    """The user's address for proactive messages: the ConversationReference as a dict, stable between
    turns (no activity id), with the tenant id under both spellings."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    data = reference.serialize()
    data.pop("activityId", None)
    tenant = tenant_of(activity)
    if tenant and isinstance(data.get("conversation"), dict):
        data["conversation"]["tenantId"] = tenant
        data["conversation"]["tenantID"] = tenant
    return data


def reference_from(address: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(address)
