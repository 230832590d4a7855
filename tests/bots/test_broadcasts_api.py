"""The broadcasts list reports each broadcast's own progress, in a fixed number of queries."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from herald.telegram.sandbox import services as sandbox
from tests.bots.conftest import Api
from tests.bots.test_conversations import hosted, write
from tests.telegram.gateway_fixtures import drain_outbox
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_user

pytestmark = pytest.mark.django_db(transaction=True)

# authentication, the bot, the broadcasts, their outbox counts: the same however many broadcasts there are
LIST_QUERIES = 4


def test_broadcast_list_counts_each_broadcast_in_constant_queries(
    telegram: str,
    api: Api,
    shop_bot: SandboxBot,
    ann: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    bot_id = hosted(api, shop_bot, {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True})
    write(shop_bot, ann, "hi")
    expected = []
    # each broadcast goes to one more user than the one before, so each has its own counts
    for n in range(1, 8):
        created = api.post(f"/api/bots/{bot_id}/broadcasts", {"text": f"News {n}"})
        assert created.status_code == 201, created.content
        drain_outbox()
        expected.append({"id": created.json()["id"], "recipients": n, "sent": n, "failed": 0, "pending": 0})
        write(shop_bot, sandbox_user(f"Reader {n}"), "hi")
    # a user who blocked the bot makes the last broadcast's delivery fail for them
    blocked = sandbox_user("Blocker")
    write(shop_bot, blocked, "hi")
    sandbox.sandbox_member_set(
        bot=sandbox.sandbox_bot_get(bot="shop_bot"),
        user=sandbox.sandbox_user_get(user_id=blocked),
        status="kicked",
    )
    last = api.post(f"/api/bots/{bot_id}/broadcasts", {"text": "Last news"}).json()
    drain_outbox()
    expected.append({"id": last["id"], "recipients": 9, "sent": 8, "failed": 1, "pending": 0})

    with django_assert_max_num_queries(LIST_QUERIES):
        listed = api.get(f"/api/bots/{bot_id}/broadcasts")
    assert listed.status_code == 200, listed.content
    got = [
        {key: row[key] for key in ("id", "recipients", "sent", "failed", "pending")} for row in listed.json()
    ]
    assert sorted(got, key=lambda row: row["id"]) == expected
    assert {row["status"] for row in listed.json()} == {"done"}
