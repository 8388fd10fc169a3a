"""The Bot Framework connector over one pooled aiohttp session.

botbuilder's own connector client (msrest) opens a new `requests` session for every turn and sends each
call from an executor thread. Here every connector call of the process — replies, proactive messages,
card updates, new chats, roster reads — goes through one `aiohttp.ClientSession` (kept-alive connections,
no thread hop). botbuilder still authenticates incoming requests, parses activities and runs the turn
context: `PooledConnectorFactory` hands the CloudAdapter a client with the same `conversations` methods
its msrest client has, so `TurnContext.send_activity`, `update_activity`, `TeamsInfo.get_member` and
`CloudAdapter.create_conversation` work unchanged.

The REST calls (Bot Framework Connector API v3):
  POST {serviceUrl}/v3/conversations/{conversationId}/activities               send
  POST {serviceUrl}/v3/conversations/{conversationId}/activities/{replyToId}   reply
  PUT  {serviceUrl}/v3/conversations/{conversationId}/activities/{activityId}  update
  POST {serviceUrl}/v3/conversations                                           create a conversation
  GET  …/members, …/members/{memberId}, …/pagedmembers                         members
with the bearer token of botbuilder's credentials (none when authentication is disabled: local mode).

As msrest did: a 5xx (or 408) or a connection failure is tried again up to 3 times (0.0 s, 1.6 s, 3.2 s
apart, or the 503's Retry-After), except in local development, where a single try reports an
unreachable Emulator at once (but a kept-alive connection the server had closed is tried once more on
a new one); a 429 is not retried here but raised with its response, so the outbox
waits for its Retry-After. Each call is counted in the metrics by method and status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.schema import Activity, ConversationParameters
from botframework.connector import models as connector_models
from botframework.connector.auth import ConnectorFactory
from msrest import Deserializer, Serializer

from bot.metrics import connector_method

log = logging.getLogger("skillcoach.teams")

RETRIES = 3
BACKOFF = 0.8
MAX_BACKOFF = 90.0
TIMEOUT = 100.0          # seconds for one connector call (msrest's default)
TOKEN_REUSE = 240.0      # seconds a bearer token is reused before asking the credentials again
USER_AGENT = "skillcoach (aiohttp) Microsoft-BotFramework/3.1"

_MODELS = {k: v for k, v in connector_models.__dict__.items() if isinstance(v, type)}
_serialize = Serializer(_MODELS)
_deserialize = Deserializer(_MODELS)


class ConnectorResponse:
    """What an error keeps of the connector's answer (`status_code`, `headers`, `text`), as msrest's
    exceptions keep their `requests` response."""

    def __init__(self, status: int, headers: Any, text: str) -> None:
        self.status_code = self.status = status
        self.headers = headers
        self.text = text


class ConnectorError(Exception):
    """The connector answered a call with an error status."""

    def __init__(self, verb: str, path: str, response: ConnectorResponse) -> None:
        message = response.text[:200].strip()
        super().__init__(f"{connector_method(verb, path)} answered {response.status_code}"
                         + (f": {message}" if message else ""))
        self.response = response


def _retryable(status: int) -> bool:
    return status == 408 or status >= 500 and status not in (501, 505)


def _delay(attempt: int, headers: Any) -> float:
    """Seconds before try number `attempt + 1` (urllib3's backoff, as msrest used)."""
    if headers is not None and headers.get("Retry-After"):
        try:
            return min(MAX_BACKOFF, max(0.0, float(headers["Retry-After"])))
        except ValueError:
            pass
    return 0.0 if attempt <= 1 else min(MAX_BACKOFF, BACKOFF * 2 ** (attempt - 1))


class ConnectorPool:
    """One aiohttp session for every connector call of a server, and the bearer tokens it sends."""

    def __init__(self, metrics: Any, *, retries: int = RETRIES) -> None:
        self.metrics = metrics
        self.retries = retries
        self.sessions_created = 0
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._credentials: dict[tuple, Any] = {}
        self._tokens: dict[int, tuple[float, str]] = {}

    def session(self) -> aiohttp.ClientSession:
        if self._closed:  # after the server's stop: nothing is sent (an outbox item waits for the next start)
            raise aiohttp.ClientConnectionError("the Teams connector session is closed (the server is stopping)")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=60),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                headers={"User-Agent": USER_AGENT},
            )
            self.sessions_created += 1
        return self._session

    async def close(self) -> None:
        self._closed = True
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # -- credentials and tokens ----------------------------------------------------------------
    async def credentials(self, key: tuple, create: Any) -> Any:
        """The credentials for (app id, audience, login endpoint), created once: they hold msal's app and
        its token cache, which a new object per turn would throw away."""
        found = self._credentials.get(key)
        if found is None:
            found = self._credentials[key] = await create()
        return found

    async def authorization(self, credentials: Any) -> str | None:
        """'Bearer <token>' from botbuilder's credentials, or None when they send no token (local mode)."""
        if credentials is None:
            return None
        should = getattr(credentials, "_should_set_token", None)
        if should is not None and not should(None):
            return None
        cached = self._tokens.get(id(credentials))
        if cached and time.monotonic() - cached[0] < TOKEN_REUSE:
            return cached[1]
        # msal's token request is blocking: in a thread, and then only every TOKEN_REUSE seconds
        token = await asyncio.get_running_loop().run_in_executor(None, credentials.get_access_token)
        header = f"Bearer {token}"
        self._tokens[id(credentials)] = (time.monotonic(), header)
        return header

    def _count(self, method: str, status: str) -> None:
        try:
            self.metrics.api_call("teams", method, status)
        except Exception:  # a metric must never break a send
            log.debug("could not count a connector call", exc_info=True)

    # -- one call -------------------------------------------------------------------------------
    async def call(self, verb: str, service_url: str, path: str, credentials: Any, *,
                   body: Any = None, query: dict[str, str] | None = None) -> Any:
        """The connector's JSON answer (None when empty); ConnectorError for an error status."""
        url = service_url.rstrip("/") + path
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        method = connector_method(verb, path)
        attempt = 0
        while True:
            attempt += 1
            authorization = await self.authorization(credentials)
            if authorization:
                headers["Authorization"] = authorization
            session = self.session()
            try:
                async with session.request(verb, url, data=data, headers=headers, params=query) as resp:
                    text = await resp.text()
                    status = resp.status
                    answer_headers = resp.headers
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                self._count(method, "error")
                # a kept-alive connection the server had closed is tried once more, even in local mode
                stale = isinstance(exc, aiohttp.ServerDisconnectedError) and attempt == 1
                if attempt > self.retries and not stale:
                    raise
                await asyncio.sleep(_delay(attempt, None))
                continue
            self._count(method, str(status))
            if status < 300:
                if not text.strip():
                    return None
                try:
                    return json.loads(text)
                except ValueError:
                    return None
            if status == 401:
                self._tokens.pop(id(credentials), None)  # the next call asks the credentials again
            if _retryable(status) and attempt <= self.retries:
                await asyncio.sleep(_delay(attempt, answer_headers if status == 503 else None))
                continue
            raise ConnectorError(verb, path, ConnectorResponse(status, answer_headers, text))


def _id(value: Any) -> str:
    return quote(str(value), safe="")


def _body(model: Any, kind: str) -> Any:
    return _serialize.body(model, kind)


class PooledConversations:
    """The `conversations` operations botbuilder and the messenger use, as connector REST calls."""

    def __init__(self, client: PooledConnectorClient) -> None:
        self._client = client

    async def _call(self, verb: str, path: str, **kwargs: Any) -> Any:
        c = self._client
        return await c.pool.call(verb, c.service_url, path, c.config.credentials, **kwargs)

    async def send_to_conversation(self, conversation_id: str, activity: Activity, **_: Any) -> Any:
        answer = await self._call("POST", f"/v3/conversations/{_id(conversation_id)}/activities",
                                  body=_body(activity, "Activity"))
        return _deserialize("ResourceResponse", answer) if answer else None

    async def reply_to_activity(self, conversation_id: str, activity_id: str, activity: Activity, **_: Any) -> Any:
        answer = await self._call("POST", f"/v3/conversations/{_id(conversation_id)}/activities/{_id(activity_id)}",
                                  body=_body(activity, "Activity"))
        return _deserialize("ResourceResponse", answer) if answer else None

    async def update_activity(self, conversation_id: str, activity_id: str, activity: Activity, **_: Any) -> Any:
        answer = await self._call("PUT", f"/v3/conversations/{_id(conversation_id)}/activities/{_id(activity_id)}",
                                  body=_body(activity, "Activity"))
        return _deserialize("ResourceResponse", answer) if answer else None

    async def delete_activity(self, conversation_id: str, activity_id: str, **_: Any) -> None:
        await self._call("DELETE", f"/v3/conversations/{_id(conversation_id)}/activities/{_id(activity_id)}")

    async def create_conversation(self, parameters: ConversationParameters, **_: Any) -> Any:
        answer = await self._call("POST", "/v3/conversations", body=_body(parameters, "ConversationParameters"))
        return _deserialize("ConversationResourceResponse", answer) if answer else None

    async def get_conversation_members(self, conversation_id: str, **_: Any) -> Any:
        answer = await self._call("GET", f"/v3/conversations/{_id(conversation_id)}/members")
        return _deserialize("[ChannelAccount]", answer or [])

    async def get_conversation_member(self, conversation_id: str, member_id: str, **_: Any) -> Any:
        answer = await self._call("GET", f"/v3/conversations/{_id(conversation_id)}/members/{_id(member_id)}")
        return _deserialize("ChannelAccount", answer)

    async def _paged(self, kind: str, conversation_id: str, page_size: int | None,
                     continuation_token: str | None) -> Any:
        query = {}
        if page_size is not None:
            query["pageSize"] = str(page_size)
        if continuation_token is not None:
            query["continuationToken"] = continuation_token
        answer = await self._call("GET", f"/v3/conversations/{_id(conversation_id)}/pagedmembers", query=query)
        return _deserialize(kind, answer or {})

    async def get_conversation_paged_members(self, conversation_id: str, page_size: int | None = None,
                                             continuation_token: str | None = None, **_: Any) -> Any:
        return await self._paged("PagedMembersResult", conversation_id, page_size, continuation_token)

    async def get_teams_conversation_paged_members(self, conversation_id: str, page_size: int | None = None,
                                                   continuation_token: str | None = None, **_: Any) -> Any:
        return await self._paged("TeamsPagedMembersResult", conversation_id, page_size, continuation_token)

    def __getattr__(self, name: str) -> Any:
        # an operation not listed above (attachments, history, …): botbuilder's own msrest client
        return getattr(self._client.msrest_client().conversations, name)


class _Config:
    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials


class PooledConnectorClient:
    """A stand-in for botbuilder's `ConnectorClient` for one serviceUrl, sending through the pool."""

    def __init__(self, pool: ConnectorPool, service_url: str, credentials: Any) -> None:
        self.pool = pool
        self.service_url = service_url
        self.config = _Config(credentials)
        self.conversations = PooledConversations(self)
        self._msrest: Any = None

    def msrest_client(self) -> Any:
        if self._msrest is None:
            from botframework.connector.aio import ConnectorClient

            self._msrest = ConnectorClient(self.config.credentials, base_url=self.service_url)
        return self._msrest

    def __getattr__(self, name: str) -> Any:  # e.g. `attachments`
        return getattr(self.msrest_client(), name)


class PooledConnectorFactory(ConnectorFactory):
    """botbuilder's connector factory, with clients that send through the pool. The credentials come from
    botbuilder's factory (its credentials factory, app id, audience and login endpoint)."""

    def __init__(self, inner: ConnectorFactory, pool: ConnectorPool) -> None:
        self._inner = inner
        self._pool = pool

    async def create(self, service_url: str, audience: str = None) -> Any:  # type: ignore[assignment]
        inner = self._inner
        factory = getattr(inner, "_credential_factory", None)
        if factory is None:  # not botbuilder's usual factory: take the credentials of its client
            client = await inner.create(service_url, audience)
            return PooledConnectorClient(self._pool, service_url, client.config.credentials)
        app_id = inner._app_id
        scope = audience or inner._to_channel_from_bot_oauth_scope
        key = (id(factory), app_id, scope, inner._login_endpoint, inner._validate_authority)
        credentials = await self._pool.credentials(
            key, lambda: factory.create_credentials(app_id, scope, inner._login_endpoint, inner._validate_authority))
        return PooledConnectorClient(self._pool, service_url, credentials)
