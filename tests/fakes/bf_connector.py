"""A local fake of the Bot Framework connector (the `serviceUrl` Teams gives a bot), recording every call.

Serves what the Teams adapter uses:
  POST /v3/conversations/{id}/activities            send (returns {"id"})
  POST /v3/conversations/{id}/activities/{replyTo}  reply
  PUT  /v3/conversations/{id}/activities/{id}       update (a submitted card)
  POST /v3/conversations                            create a 1:1 chat (returns {"id"})
  GET  /v3/conversations/{id}/members/{memberId}    one member (404 if not in the roster)
  GET  /v3/conversations/{id}/members               all members
  GET  /v3/conversations/{id}/pagedmembers          paged members (pageSize, continuationToken)
  POST /{tenant}/oauth2/v2.0/token                  a token endpoint (client credentials)
  PUT  /upload/{name}                               an upload URL (OneDrive's, in a file consent answer):
                                                    kept in `uploads`; `upload_info(name)` builds the answer
Members come from `roster` (one roster for every conversation, as in a one-team tenant).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)
    response_id: str | None = None        # the activity id the fake answered with (for replyToId)
    peer: tuple | None = None             # the client end of the TCP connection the call came on

    @property
    def texts(self) -> list[str]:
        """Every text this call shows a user: the message text and the text of card TextBlocks."""
        if not isinstance(self.body, dict):
            return []
        out = [self.body["text"]] if self.body.get("text") else []
        for attachment in self.body.get("attachments") or []:
            out.extend(card_texts(attachment.get("content") or {}))
        return out

    @property
    def cards(self) -> list[dict[str, Any]]:
        if not isinstance(self.body, dict):
            return []
        return [a.get("content") or {} for a in self.body.get("attachments") or []
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]


def card_texts(element: Any) -> list[str]:
    out: list[str] = []
    if isinstance(element, dict):
        if element.get("type") == "TextBlock" and isinstance(element.get("text"), str):
            out.append(element["text"])
        if element.get("type") == "FactSet":
            out.extend(f"{f.get('title')}: {f.get('value')}" for f in element.get("facts") or [])
        for key in ("body", "items", "columns"):
            for child in element.get(key) or []:
                out.extend(card_texts(child))
    return out


@dataclass
class Upload:
    name: str
    headers: dict[str, str]
    content: bytes


class FakeConnector:
    def __init__(self, roster: list[dict[str, Any]] | None = None, *, page_size: int = 2) -> None:
        self.roster: list[dict[str, Any]] = list(roster or [])
        self.page_size = page_size            # small pages, so paging is exercised
        self.calls: list[Call] = []
        self.token_requests: list[dict[str, str]] = []
        self.fail_next: list[int] = []        # statuses to answer the next send/reply calls with
        self.uploads: list[Upload] = []       # files PUT to an upload URL (OneDrive's, in a real tenant)
        self.fail_uploads: list[int] = []     # statuses to answer the next uploads with
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_get("/v3/conversations/{cid}/members", self._members)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_put("/upload/{name}", self._upload)
        return app

    async def start(self, host: str = "127.0.0.1") -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what was received ---------------------------------------------------------------------
    def messages(self, conversation_id: str | None = None) -> list[Call]:
        return [c for c in self.calls
                if c.method == "POST" and "/activities" in c.path
                and (conversation_id is None or c.conversation_id == conversation_id)]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT"]

    def created(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path == "/v3/conversations"]

    def clear(self) -> None:
        self.calls.clear()

    # -- handlers ------------------------------------------------------------------------------
    async def _record(self, request: web.Request) -> Call:
        body = None
        if request.can_read_body:
            body = await request.json()
        call = Call(
            method=request.method,
            path=request.path,
            conversation_id=request.match_info.get("cid"),
            activity_id=request.match_info.get("aid"),
            body=body,
            headers=dict(request.headers),
            query=dict(request.query),
            peer=request.transport.get_extra_info("peername") if request.transport else None,
        )
        self.calls.append(call)
        return call

    async def _send(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response({"error": {"code": "Fake", "message": f"fake {status}"}}, status=status,
                                     headers={"Retry-After": "7"} if status == 429 else None)
        call.response_id = f"activity-{next(self._ids)}"
        return web.json_response({"id": call.response_id})

    async def _upload(self, request: web.Request) -> web.Response:
        """A OneDrive upload session URL, as a file consent answer gives one: the bytes in one PUT."""
        content = await request.read()
        if self.fail_uploads:
            return web.json_response({"error": {"code": "fake"}}, status=self.fail_uploads.pop(0))
        self.uploads.append(Upload(request.match_info["name"], dict(request.headers), content))
        return web.json_response({"id": f"file-{len(self.uploads)}", "name": request.match_info["name"],
                                  "size": len(content)}, status=201)

    def upload_info(self, name: str) -> dict[str, str]:
        """The `uploadInfo` of a `fileConsent/invoke` accept, pointing at this fake's upload URL."""
        return {"name": name, "uploadUrl": f"{self.url}upload/{name}", "fileType": "json",
                "contentUrl": f"https://tenant.example.com/personal/user/Documents/Applications/{name}",
                "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D"}

    async def _update(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        return web.json_response({"id": call.activity_id})

    async def _create(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        members = (call.body or {}).get("members") or [{}]
        return web.json_response({"id": f"a:personal-{members[0].get('id')}", "activityId": None})

    def _find(self, member_id: str) -> dict[str, Any] | None:
        for member in self.roster:
            if member_id in (member.get("id"), member.get("aadObjectId")):
                return member
        return None

    async def _member(self, request: web.Request) -> web.Response:
        await self._record(request)
        member = self._find(request.match_info["mid"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": "not found"}},
                                     status=404)
        return web.json_response(member)

    async def _members(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response(self.roster)

    async def _paged(self, request: web.Request) -> web.Response:
        await self._record(request)
        start = int(request.query.get("continuationToken") or 0)
        size = min(int(request.query.get("pageSize") or self.page_size), self.page_size)
        page = self.roster[start:start + size]
        result: dict[str, Any] = {"members": page}
        if start + size < len(self.roster):
            result["continuationToken"] = str(start + size)
        return web.json_response(result)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests.append({k: str(v) for k, v in form.items()})
        return web.json_response({"access_token": "fake-outbound-token", "token_type": "Bearer",
                                  "expires_in": 3600, "ext_expires_in": 3600})


def member(n: int, *, tenant: str = "tenant-1") -> dict[str, Any]:
    """A roster entry shaped like Teams' (TeamsChannelAccount), for "Report NN"."""
    return {
        "id": f"29:member-{n:02d}",
        "name": f"Report {n:02d}",
        "aadObjectId": f"aad-{n:02d}",
        "email": f"report-{n:02d}@example.com",
        "userPrincipalName": f"report-{n:02d}@example.com",
        "givenName": "Report",
        "surname": f"{n:02d}",
        "tenantId": tenant,
        "userRole": "user",
    }


class FakeBotFrameworkAuth:
    """The Bot Framework's token side, on 127.0.0.1 in a thread (botbuilder fetches keys and tokens with
    blocking `requests` calls, so these endpoints must not share the event loop of the server under test).

      GET  /v1/.well-known/openidconfiguration  OpenID metadata pointing at /keys
      GET  /keys                                the signing key (JWK, endorsed for msteams)
      POST /botframework.com/oauth2/v2.0/token  client-credentials tokens for the bot's outbound calls
    `sign(claims)` makes an inbound token as the Bot Framework channel would.
    """

    ISSUER = "https://api.botframework.com"
    KID = "fake-signing-key"

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.token_requests: list[dict[str, str]] = []
        self.issued: list[str] = []
        self._server = None
        self._thread = None
        self.url = ""

    def jwk(self) -> dict[str, Any]:
        import json as _json

        from jwt.algorithms import RSAAlgorithm

        key = _json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {**key, "kid": self.KID, "use": "sig", "endorsements": ["msteams", "emulator"]}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        import jwt

        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": kid or self.KID})

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return f"{self.url}/botframework.com"

    def start(self) -> str:
        import json as _json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qsl

        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _json(self, obj: Any, status: int = 200) -> None:
                body = _json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/v1/.well-known/openidconfiguration":
                    self._json({"issuer": fake.ISSUER, "jwks_uri": f"{fake.url}/keys",
                                "id_token_signing_alg_values_supported": ["RS256"]})
                elif self.path == "/keys":
                    self._json({"keys": [fake.jwk()]})
                else:
                    self._json({"error": "not found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if self.path.endswith("/oauth2/v2.0/token"):
                    fake.token_requests.append(form)
                    token = f"outbound-token-{len(fake.token_requests)}"
                    fake.issued.append(token)
                    self._json({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
                else:
                    self._json({"error": "not found"}, 404)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
