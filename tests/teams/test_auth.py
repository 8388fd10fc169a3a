"""With an app id set: real Bot Framework JWT checks on the way in, a bearer token on the way out.

The signing keys and the token endpoint are local fakes (`FakeBotFrameworkAuth`), wired in through
botbuilder's own configuration keys (the OpenID metadata URL, issuer and login URL a private cloud
would set). Outbound tokens come from the fake token endpoint through a small client-credentials
`AppCredentials` (MSAL itself insists on https authorities, which a local fake does not have).
"""

from __future__ import annotations

import time

import pytest
import requests
from botframework.connector.auth import AppCredentials, MicrosoftAppCredentials, PasswordServiceClientCredentialFactory

from adapters.teams import mount
from bot.server import COACH
from bot.types import Reply
from tests.fakes.bf_connector import FakeBotFrameworkAuth, member
from tests.teams import activities as A
from tests.teams.conftest import Server, store_settings

APP_ID = "11111111-2222-3333-4444-555555555555"
PASSWORD = "test-password"


class TokenEndpointCredentials(AppCredentials):
    """Client credentials against `login_endpoint`/oauth2/v2.0/token (the fake), token cached."""

    def __init__(self, app_id: str, password: str, login_endpoint: str, scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self.password = password
        self.token_url = f"{login_endpoint}/oauth2/v2.0/token"
        self._token: str | None = None

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._token is None or force_refresh:
            response = requests.post(self.token_url, data={
                "grant_type": "client_credentials", "client_id": self.microsoft_app_id,
                "client_secret": self.password, "scope": f"{self.oauth_scope}/.default"}, timeout=5)
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token


class LocalCredentialFactory(PasswordServiceClientCredentialFactory):
    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        if await self.is_authentication_disabled():
            return MicrosoftAppCredentials.empty()
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("Invalid app_id")
        return TokenEndpointCredentials(app_id, self.password, login_endpoint, oauth_scope)


@pytest.fixture(scope="module")
def bf_auth():
    fake = FakeBotFrameworkAuth()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def secured(tmp_path, bf_auth, catalog):
    # the app is created without Teams, then Teams is mounted with the app id and the local endpoints
    settings = store_settings(tmp_path, teams_enabled=False)
    secured_settings = store_settings(tmp_path, microsoft_app_id=APP_ID, microsoft_app_password=PASSWORD)

    def mount_teams(app):
        assert mount(app, app[COACH], secured_settings,
                     credentials_factory=LocalCredentialFactory(APP_ID, PASSWORD),
                     auth_overrides={
                         "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": bf_auth.metadata_url,
                         "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": bf_auth.metadata_url,
                         "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": bf_auth.ISSUER,
                         "TO_CHANNEL_FROM_BOT_LOGIN_URL": bf_auth.login_url,
                         "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
                         "VALIDATE_AUTHORITY": False,
                     })

    srv = await Server(settings, catalog=catalog, on_app=mount_teams).start()
    yield srv
    await srv.stop()


def claims(service_url: str, **changes):
    now = int(time.time())
    base = {"iss": FakeBotFrameworkAuth.ISSUER, "aud": APP_ID, "serviceurl": service_url,
            "nbf": now - 10, "exp": now + 3600, "iat": now - 10}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


async def test_a_signed_request_is_answered_with_a_bearer_token(secured, connector, bf_auth):
    activity = A.message(connector.url, member(1), "hello")
    token = bf_auth.sign(claims(connector.url))
    status, body = await secured.post(activity, headers={"Authorization": f"Bearer {token}"})
    assert status == 201, body
    sent = connector.messages()
    assert sent
    assert all(c.headers.get("Authorization") == f"Bearer {bf_auth.issued[-1]}" for c in sent)
    assert bf_auth.token_requests[-1]["client_id"] == APP_ID
    assert bf_auth.token_requests[-1]["client_secret"] == PASSWORD
    assert bf_auth.token_requests[-1]["scope"] == "https://api.botframework.com/.default"

    # proactive messages carry a token too
    connector.clear()
    await secured.the_coach.send_to("teams", "aad-01", [Reply("A nudge.")])
    (call,) = connector.messages()
    assert call.headers["Authorization"].startswith("Bearer outbound-token-")


@pytest.mark.parametrize(
    ("change", "kid"),
    [
        ({"aud": "99999999-2222-3333-4444-555555555555"}, None),   # a token for another bot
        ({"exp": int(time.time()) - 600}, None),                    # expired
        ({"serviceurl": "http://127.0.0.1:1/"}, None),              # issued for another service URL
        ({"iss": "https://sts.windows.net/other/"}, None),          # wrong issuer
        ({}, "another-key"),                                        # signed with a key not published
    ],
)
async def test_tokens_that_do_not_check_out_get_401(secured, connector, bf_auth, change, kid):
    activity = A.message(connector.url, member(1), "hello")
    token = bf_auth.sign(claims(connector.url, **change), kid=kid)
    status, _ = await secured.post(activity, headers={"Authorization": f"Bearer {token}"})
    assert status == 401
    assert connector.calls == []
    assert await secured.the_coach.first_time("teams", A.event_key(activity))  # not even recorded as seen


async def test_a_forged_signature_gets_401(secured, connector, bf_auth):
    activity = A.message(connector.url, member(1), "hello")
    head, payload, _ = bf_auth.sign(claims(connector.url)).split(".")
    other = FakeBotFrameworkAuth().sign(claims(connector.url)).split(".")[2]
    status, _ = await secured.post(activity, headers={"Authorization": f"Bearer {head}.{payload}.{other}"})
    assert status == 401
    assert connector.calls == []
