"""Connector calls go through one pooled aiohttp session: many turns and proactive messages, one session,
kept-alive connections; the session is closed when the server stops."""

from __future__ import annotations

import pytest

from adapters.teams import TEAMS
from bot.delivery import DeliveryError
from bot.store import ADDRESSES
from bot.types import Reply
from tests.fakes.bf_connector import member
from tests.teams import activities as A
from tests.teams.conftest import Server
from tests.teams.test_auth import bf_auth, claims, secured  # noqa: F401  (fixtures)


async def test_many_turns_reuse_one_session_and_connection(server, connector):
    runtime = await server.app[TEAMS].wait()
    for n in range(20):
        status, _ = await server.post(A.message(connector.url, member(1 + n % 3), "help"))
        assert status == 201
    await server.the_coach.send_to("teams", "aad-02", [Reply("A reminder.")])

    sends = connector.messages()
    assert len(sends) >= 21
    assert runtime.connectors.sessions_created == 1
    # sequential calls on a kept-alive connection: every call came from the same client socket
    peers = {call.peer for call in connector.calls}
    assert len(peers) == 1 and None not in peers


async def test_the_session_is_closed_when_the_server_stops(settings, catalog, connector):
    srv = await Server(settings, catalog=catalog).start()
    runtime = await srv.app[TEAMS].wait()
    assert (await srv.post(A.message(connector.url, member(1), "help")))[0] == 201
    address = (await srv.the_coach.store.get(ADDRESSES, "teams:aad-01")).data["address"]
    session = runtime.connectors.session()
    assert not session.closed
    await srv.stop()
    assert session.closed
    # nothing is sent after the stop: the outbox keeps the item for the next start
    connector.clear()
    with pytest.raises(DeliveryError) as err:
        await runtime.messenger.send("aad-01", address, [Reply("too late")])
    assert not err.value.permanent
    assert connector.calls == []


async def test_a_5xx_in_local_mode_is_tried_once_and_is_not_permanent(server, connector):
    await server.post(A.message(connector.url, member(1), "hello"))
    connector.clear()
    connector.fail_next = [503]
    with pytest.raises(DeliveryError) as err:
        await server.the_coach.send_to("teams", "aad-01", [Reply("x")])
    assert not err.value.permanent
    assert len(connector.messages()) == 1


async def test_with_an_app_id_one_token_serves_many_turns_and_a_5xx_is_tried_again(secured, connector, bf_auth):
    before = len(bf_auth.token_requests)
    for n in range(5):
        activity = A.message(connector.url, member(1 + n % 2), "help")
        token = bf_auth.sign(claims(connector.url))
        assert (await secured.post(activity, headers={"Authorization": f"Bearer {token}"}))[0] == 201
    assert len(bf_auth.token_requests) - before == 1  # the credentials (and their token) are kept
    sent = connector.messages()
    assert len(sent) == 5
    assert all(c.headers.get("Authorization") == f"Bearer {bf_auth.issued[-1]}" for c in sent)

    connector.clear()
    connector.fail_next = [503]
    await secured.the_coach.send_to("teams", "aad-01", [Reply("A nudge.")])
    first, second = connector.messages()
    assert first.body == second.body and second.response_id is not None
