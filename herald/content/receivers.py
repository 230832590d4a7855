"""What the content app learns from the gateway: a part of a post was sent (queue the next, or record it
published) or failed (keep the post with Telegram's words and book a retry)."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from herald.content.services import publication_advance
from herald.telegram.signals import outbox_message_failed, outbox_message_sent

logger = logging.getLogger(__name__)


def _post_id(message: Any) -> int | None:
    reference = getattr(message, "reference", "") or ""
    prefix, _, rest = reference.partition(":")
    return int(rest) if prefix == "post" and rest.isdigit() else None


@receiver(outbox_message_sent, dispatch_uid="content-part-sent")
@receiver(outbox_message_failed, dispatch_uid="content-part-failed")
def _advance(sender: Any, message: Any, **_: Any) -> None:
    post_id = _post_id(message)
    if post_id is None:
        return
    try:
        publication_advance(post_id=post_id)
    except Exception:  # the sweeper moves the post on later; the gateway's own work is done
        logger.exception("could not move post %s on after its send", post_id)
