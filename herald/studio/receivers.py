"""What the studio learns from others: the "writing…" message reached the editor (start writing the post),
and a post was published or failed to publish (tell the editor, with Retry)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from herald.content.signals import post_publish_failed, post_published
from herald.studio import notices
from herald.telegram.signals import outbox_message_failed, outbox_message_sent

WRITING = "studio.writing:"


def _start_writing(message: Any) -> None:
    reference = str(getattr(message, "reference", ""))
    if not reference.startswith(WRITING):
        return
    session_pk, post_id, nonce = reference[len(WRITING) :].split(":")
    message_id = getattr(message, "telegram_message_id", None)
    from herald.studio.tasks import studio_generate_task

    transaction.on_commit(
        lambda: studio_generate_task.delay(int(session_pk), int(post_id), nonce, message_id)
    )


@receiver(outbox_message_sent, dispatch_uid="studio-writing-sent")
def _writing_sent(sender: Any, message: Any, **_: Any) -> None:
    _start_writing(message)


@receiver(outbox_message_failed, dispatch_uid="studio-writing-failed")
def _writing_failed(sender: Any, message: Any, **_: Any) -> None:
    _start_writing(message)  # the editor did not get "writing…": the result comes as a new message


@receiver(post_published, dispatch_uid="studio-post-published")
def _published(sender: Any, post: Any, **_: Any) -> None:
    notices.publish_result_tell(post=post, ok=True)


@receiver(post_publish_failed, dispatch_uid="studio-post-failed")
def _failed(sender: Any, post: Any, **kwargs: Any) -> None:
    notices.publish_result_tell(post=post, ok=False, error=str(kwargs.get("error") or ""))
