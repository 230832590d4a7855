"""The content admin: pages render, a post shows its links, reactions and events, and "publish now" queues
a draft (and says why it cannot when the post is empty)."""

from __future__ import annotations

import pytest
from django.test import Client

from herald.content import services
from herald.content.models import Destination, Post, PostStatus
from tests.content.conftest import EDITOR
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client) -> Client:
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


def test_every_content_admin_page_renders(admin: Client, destination: Destination) -> None:
    post = services.post_create_draft(destination=destination, author_telegram_id=EDITOR, format="promo")
    post = services.post_update(
        post=post, text="<b>Ակցիա</b>", links=[{"text": "Shop", "url": "https://s.am"}]
    )
    for model in ("destination", "post", "trackedlink", "postevent"):
        assert admin.get(f"/admin/content/{model}/").status_code == 200, model
    page = admin.get(f"/admin/content/post/{post.pk}/change/").content.decode()
    assert "&lt;b&gt;Ակցիա&lt;/b&gt;" in page  # the editor's text is shown escaped
    assert admin.get(f"/admin/content/destination/{destination.pk}/change/").status_code == 200


def test_publish_now_from_the_admin(admin: Client, destination: Destination) -> None:
    ready = services.post_update(
        post=services.post_create_draft(destination=destination, author_telegram_id=EDITOR), text="Զեղչեր"
    )
    empty = services.post_create_draft(destination=destination, author_telegram_id=EDITOR)
    answer = admin.post(
        "/admin/content/post/",
        {"action": "publish_now", "_selected_action": [ready.pk, empty.pk]},
        follow=True,
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "1 post(s) queued for publishing" in text
    assert "the post is empty" in text
    assert Post.objects.get(pk=ready.pk).status == PostStatus.PUBLISHING
    assert Post.objects.get(pk=empty.pk).status == PostStatus.DRAFT
