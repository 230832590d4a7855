"""Services: write a channel post with the configured AI service, check it, regenerate an unusable version,
retry transient failures with backoff, and fall back to the offline template writer when no key is set."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings

from herald.ai.checks import Language, model_text_clean, post_limit, post_problems
from herald.ai.client import AIError, AIRejected, ChatClient, ChatMessage, chat_client_from_settings
from herald.ai.metrics import AI_POSTS
from herald.ai.prompts import FORMAT_LABELS, PostFormat, post_messages, retry_messages
from herald.ai.templates import post_write_from_template
from herald.core.errors import HeraldError, InvalidInput

logger = logging.getLogger(__name__)

MediaKind = Literal["none", "photo", "video", "animation"]
Source = Literal["ai", "template"]

LANGUAGES: tuple[str, ...] = ("hy", "ru", "en")
MEDIA_KINDS: tuple[str, ...] = ("none", "photo", "video", "animation")
MAX_KEYWORDS_LENGTH = 500
MAX_DETAILS_LENGTH = 2000
TEMPLATE_WARNING = "No AI service is configured: this text was written from a built-in template."
_BACKOFF_CAP_SECONDS = 30.0
_FAILURE_WORDS = {
    "timeout": "a timeout",
    "connection": "a connection failure",
    "rate_limited": "a rate limit",
    "server_error": "a server error",
}


@dataclass(frozen=True)
class GeneratedPost:
    """A publishable post text. ``source`` says who wrote it; ``attempts`` counts calls to the AI service
    (0 for a template); ``warnings`` say, for people, what was retried or regenerated and why."""

    text: str
    source: Source
    attempts: int
    warnings: tuple[str, ...] = ()


class GenerationFailed(HeraldError):
    """The AI service could not produce a usable post: the editor writes the text themselves."""

    code = "ai_generation_failed"
    status = 502

    def __init__(self, cause: str, *, attempts: int, permanent: bool) -> None:
        super().__init__(f"The text could not be generated: {cause}.", cause=cause, attempts=attempts)
        self.cause = cause
        self.attempts = attempts
        self.permanent = permanent


def _checked_inputs(*, post_format: str, keywords: str, details: str, language: str, media_kind: str) -> None:
    if post_format not in FORMAT_LABELS:
        raise InvalidInput(f"Unknown post format {post_format!r}: use one of {', '.join(FORMAT_LABELS)}.")
    if language not in LANGUAGES:
        raise InvalidInput(f"Unknown language {language!r}: use one of {', '.join(LANGUAGES)}.")
    if media_kind not in MEDIA_KINDS:
        raise InvalidInput(f"Unknown media kind {media_kind!r}: use one of {', '.join(MEDIA_KINDS)}.")
    if not keywords.strip():
        raise InvalidInput("Give at least one keyword: what is the post about?")
    if len(keywords) > MAX_KEYWORDS_LENGTH:
        raise InvalidInput(f"Keywords are limited to {MAX_KEYWORDS_LENGTH} characters.")
    if len(details) > MAX_DETAILS_LENGTH:
        raise InvalidInput(f"Details are limited to {MAX_DETAILS_LENGTH} characters.")


def backoff_delay(*, attempt: int, base: float, retry_after: float | None = None) -> float:
    """Seconds to wait before call ``attempt + 1``: the service's Retry-After when it gave one, otherwise
    ``base * 2**(attempt-1)`` with jitter (half to all of it) so parallel editors do not retry in step."""
    if retry_after is not None:
        return min(retry_after, _BACKOFF_CAP_SECONDS)
    ceiling = min(base * 2 ** (attempt - 1), _BACKOFF_CAP_SECONDS)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311  # jitter, not a secret


class _RetryingChat:
    """One question to the AI service, asked up to ``AI_MAX_ATTEMPTS`` times while failures are transient."""

    def __init__(self, client: ChatClient, sleep: Callable[[float], None]) -> None:
        self.client = client
        self.sleep = sleep
        self.calls = 0
        self.warnings: list[str] = []

    def ask(self, messages: list[ChatMessage], *, max_tokens: int) -> tuple[str, str]:
        max_attempts = max(1, settings.AI_MAX_ATTEMPTS)
        for attempt in range(1, max_attempts + 1):
            self.calls += 1
            try:
                completion = self.client.complete(messages=messages, temperature=0.8, max_tokens=max_tokens)
            except AIRejected as exc:
                raise GenerationFailed(exc.message, attempts=self.calls, permanent=True) from exc
            except AIError as exc:
                if attempt == max_attempts:
                    cause = f"{exc.message} (after {attempt} tries)"
                    raise GenerationFailed(cause, attempts=self.calls, permanent=False) from exc
                delay = backoff_delay(
                    attempt=attempt, base=settings.AI_BACKOFF_SECONDS, retry_after=exc.retry_after
                )
                self.warnings.append(f"retried after {_FAILURE_WORDS.get(exc.kind, exc.kind)}")
                logger.info("AI call failed (%s), retrying in %.2fs", exc.kind, delay)
                self.sleep(delay)
            else:
                return completion.text, completion.finish_reason
        raise AssertionError("unreachable: the loop returns or raises")


def post_generate(
    *,
    format: PostFormat,  # the editor's word; keyword-only, so the builtin is shadowed only in here
    keywords: str,
    details: str = "",
    language: Language = "hy",
    media_kind: MediaKind = "none",
    client: ChatClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> GeneratedPost:
    """Write one post for the channel. Raises ``InvalidInput`` for bad arguments and ``GenerationFailed``
    (the editor's manual mode) when the AI service keeps failing or keeps writing unusable text."""
    _checked_inputs(
        post_format=format, keywords=keywords, details=details, language=language, media_kind=media_kind
    )
    limit = post_limit(media_kind)
    if client is None and not settings.AI_API_KEY:
        text = post_write_from_template(
            post_format=format, keywords=keywords, details=details, language=language, limit=limit
        )
        AI_POSTS.labels(source="template", outcome="written").inc()
        return GeneratedPost(text=text, source="template", attempts=0, warnings=(TEMPLATE_WARNING,))

    try:
        post = _post_generate_with_ai(
            client or chat_client_from_settings(),
            sleep,
            post_format=format,
            keywords=keywords,
            details=details,
            language=language,
            media_kind=media_kind,
        )
    except GenerationFailed:
        AI_POSTS.labels(source="ai", outcome="failed").inc()
        raise
    AI_POSTS.labels(source="ai", outcome="retried" if post.warnings else "written").inc()
    return post


def _post_generate_with_ai(
    client: ChatClient,
    sleep: Callable[[float], None],
    *,
    post_format: PostFormat,
    keywords: str,
    details: str,
    language: Language,
    media_kind: MediaKind,
) -> GeneratedPost:
    limit = post_limit(media_kind)
    chat = _RetryingChat(client, sleep)
    messages = post_messages(
        post_format=post_format,
        keywords=keywords,
        details=details,
        language=language,
        limit=limit,
        media_kind=media_kind,
    )
    # Armenian and Russian cost about a token per 2 characters; leave room for a full-length post.
    max_tokens = min(limit, 2048)
    problems: list[str] = []
    for _round in range(1 + max(0, settings.AI_MAX_REGENERATIONS)):
        raw, finish_reason = chat.ask(messages, max_tokens=max_tokens)
        text = model_text_clean(raw)
        problems = post_problems(text, language=language, limit=limit)
        if finish_reason == "length":
            problems.append("the text was cut off before its end")
        if not problems:
            return GeneratedPost(text=text, source="ai", attempts=chat.calls, warnings=tuple(chat.warnings))
        chat.warnings.append(f"regenerated: {'; '.join(problems)}")
        logger.info("AI post unusable (%s), regenerating", "; ".join(problems))
        messages = [
            *messages,
            *retry_messages(rejected_text=text or raw, problems=problems, language=language, limit=limit),
        ]
    raise GenerationFailed(
        f"every version was unusable ({'; '.join(problems)})", attempts=chat.calls, permanent=False
    )
