"""AI generation for the editor: write the post with ``herald.ai`` and edit the "writing…" message into the
review, or into manual mode when the AI service keeps failing (the seed's fallback)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import translation

from herald.ai.generation import MEDIA_KINDS, TEMPLATE_WARNING, GenerationFailed, post_generate
from herald.content import services as content
from herald.core.errors import InvalidInput
from herald.studio import screens, texts
from herald.studio.conversation import links_in, post_find
from herald.studio.models import EditorSession
from herald.studio.replies import Replies
from herald.studio.services import audit_record, session_save
from herald.studio.states import State
from herald.telegram.formatting import TEXT_LIMIT, telegram_length

logger = logging.getLogger(__name__)
EDITABLE = frozenset({"draft", "failed", "scheduled"})


def _waiting(session: EditorSession | None, nonce: str) -> bool:
    return session is not None and session.state == State.GENERATING and session.data.get("gen") == nonce


def post_generation_run(*, session_pk: int, post_id: int, nonce: str, message_id: int | None) -> None:
    """Safe to run twice: only the run that finds the session still waiting for ``nonce`` answers."""
    session = (
        EditorSession.objects.select_related("studio__bot", "studio__destination")
        .filter(pk=session_pk)
        .first()
    )
    if session is None or not _waiting(session, nonce):
        return
    studio = session.studio
    post = post_find(studio, post_id)
    if post is None or post.status not in EDITABLE:
        return
    media_kind: Any = post.media_kind if post.media_kind in MEDIA_KINDS else "none"
    language: Any = post.language or studio.language
    failure = ""
    generated = None
    try:
        generated = post_generate(
            format=post.format,
            keywords=post.keywords,
            details=post.details,
            language=language,
            media_kind=media_kind,
        )
    except GenerationFailed as exc:
        failure = exc.cause
    except InvalidInput as exc:
        failure = exc.message
    with translation.override(studio.interface_language), transaction.atomic():
        session = EditorSession.objects.select_for_update().filter(pk=session_pk).first()
        post = post_find(studio, post_id)
        if session is None or post is None or post.status not in EDITABLE:
            return
        current = _waiting(session, nonce)
        out = Replies(
            token=studio.bot.token,
            chat_id=session.telegram_user_id,
            key=f"studio:gen:{session_pk}:{nonce}",
            reference=f"studio:{studio.bot_id}",
        )
        if generated is None:
            audit_record(
                studio=studio,
                telegram_user_id=session.telegram_user_id,
                action="post.generation_failed",
                post_id=post.pk,
                detail={"cause": failure[:300]},
            )
            if current:
                session_save(session=session, state=State.MANUAL_TEXT, post=post, data={})
                out.edit(message_id, *screens.generation_failed(post, failure))
            return
        if not current and post.text:
            return  # the editor moved on and wrote the text meanwhile: theirs wins
        post = content.post_update(
            post=post,
            text=generated.text,
            text_source=generated.source,
            links=links_in(generated.text, post.details),
        )
        audit_record(
            studio=studio,
            telegram_user_id=session.telegram_user_id,
            action="post.generated",
            post_id=post.pk,
            detail={
                "source": generated.source,
                "attempts": generated.attempts,
                "warnings": list(generated.warnings),
            },
        )
        if current:
            session_save(session=session, state=State.REVIEW, post=post, data={})
            warnings = [texts.template_warning() if w == TEMPLATE_WARNING else w for w in generated.warnings]
            text, markup = screens.review(post, warnings)
            if message_id is not None and telegram_length(text) > TEXT_LIMIT:
                # too long for one message: "writing…" becomes the heading, the text follows in parts
                out.edit(message_id, texts.review_title())
                out.send(text, markup)
            else:
                out.edit(message_id, text, markup)
        else:
            out.edit(message_id, texts.text_saved_to_drafts(), screens.only_menu())
