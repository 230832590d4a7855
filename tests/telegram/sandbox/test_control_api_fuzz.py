"""Any JSON sent to any control API endpoint gets a 2xx or a 4xx naming the problem, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.telegram.sandbox.helpers import SandboxBot

ENDPOINTS = [
    "bots",
    "users",
    "channels",
    "groups",
    "send",
    "press",
    "react",
    "members",
    "redeliver",
    "limits",
    "migrate",
]
KEYS = [
    "username", "first_name", "title", "admins", "bot", "from", "chat", "text", "caption", "message_id",
    "data", "reactions", "user", "status", "update_id", "enabled", "type", "language_code",
]  # fmt: skip
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_control_request_breaks_the_sandbox(
    client: Client, shop_bot: SandboxBot, ann: int, data: st.DataObject
) -> None:
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "bot": st.sampled_from(["shop_bot", "@shop_bot", shop_bot.id, "nobody"]),
        "from": st.sampled_from([ann, str(ann), 1]),
        "user": st.sampled_from([ann, 1]),
        "chat": st.sampled_from([ann, -1001, "x"]),
        "message_id": st.integers(0, 3),
        "status": st.sampled_from(["kicked", "member", "left"]),
        "admins": st.lists(st.sampled_from(["shop_bot", "nobody"]), max_size=2),
        "reactions": st.dictionaries(st.sampled_from(["👍", "🔥", ""]), st.integers(-1, 5), max_size=2),
    }
    endpoint = data.draw(st.sampled_from(ENDPOINTS), label="endpoint")
    keys = data.draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=6), label="keys")
    body = {key: data.draw(st.one_of(plausible.get(key, values), values), label=key) for key in keys}
    if data.draw(st.booleans(), label="as_json"):
        response = client.post(f"/sandbox/api/{endpoint}", body, content_type="application/json")
    else:
        raw = data.draw(st.sampled_from([json.dumps(body), "{", "[]", "null", '"x"']), label="raw")
        response = client.post(f"/sandbox/api/{endpoint}", raw, content_type="application/json")
    assert response.status_code < 500, response.content
    answer = response.json()
    if response.status_code >= 400:
        assert answer["code"] and answer["message"]
