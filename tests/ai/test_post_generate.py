"""post_generate with the production client (the real openai SDK) against the sandbox twin over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from herald.ai import GenerationFailed, post_generate, script_share, telegram_length
from tests.ai.conftest import AISandbox

pytestmark = pytest.mark.django_db(transaction=True)

KEYWORDS = "Կաշվե պայուսակ, սև, բնական կաշի"


def generate(sandbox: AISandbox, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "format": "selling",
        "keywords": KEYWORDS,
        "details": "Գինը՝ 25000 դրամ",
        "language": "hy",
        "media_kind": "photo",
    }
    arguments.update(overrides)
    return post_generate(**arguments, sleep=sandbox.sleep)


def test_a_good_armenian_post_is_accepted_as_written(ai_sandbox: AISandbox) -> None:
    post = generate(ai_sandbox)
    assert (post.source, post.attempts, post.warnings) == ("ai", 1, ())
    assert post.text.startswith("🔥 Կաշվե պայուսակ")
    assert "25000 դրամ" in post.text  # the editor's details reach the post
    assert script_share(post.text, language="hy") >= 0.7
    assert telegram_length(post.text) <= 1024
    assert ai_sandbox.state()["requests"] == 1
    assert ai_sandbox.sleeps == []


@pytest.mark.parametrize(
    ("post_format", "language", "keywords", "opening"),
    [
        ("collection", "hy", "Ամառային զգեստներ, սանդալներ", "📝"),
        ("info", "ru", "Как выбрать кроссовки, размер", "💡 Полезно знать: Как выбрать кроссовки"),
        ("promo", "en", "Black Friday, 30% off", "⚡ Special offer: Black Friday"),
    ],
)
def test_each_format_and_language_is_asked_for_and_answered(
    ai_sandbox: AISandbox, post_format: str, language: str, keywords: str, opening: str
) -> None:
    post = generate(ai_sandbox, format=post_format, language=language, keywords=keywords, details="")
    assert post.source == "ai" and post.text.startswith(opening)
    assert script_share(post.text, language=language) >= 0.7  # type: ignore[arg-type]


def test_latin_output_is_regenerated_then_accepted(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="latin", times=1)
    post = generate(ai_sandbox)
    assert post.source == "ai" and post.attempts == 2
    assert script_share(post.text, language="hy") >= 0.7
    assert len(post.warnings) == 1 and "Armenian" in post.warnings[0]
    assert "regenerated" in post.warnings[0]


def test_too_long_for_a_caption_is_regenerated(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="too_long", times=1)
    post = generate(ai_sandbox, media_kind="video")
    assert post.attempts == 2 and telegram_length(post.text) <= 1024
    assert "1024 for a caption" in post.warnings[0]


def test_a_fenced_quoted_answer_is_unwrapped(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="fenced")
    post = generate(ai_sandbox)
    assert post.attempts == 1
    assert post.text.startswith("🔥") and not post.text.endswith(('"', "`"))


def test_an_empty_answer_is_regenerated(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="empty", times=1)
    post = generate(ai_sandbox)
    assert post.attempts == 2 and "empty" in post.warnings[0]


def test_a_post_cut_off_at_the_token_limit_is_regenerated(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="truncated", times=1)
    post = generate(ai_sandbox)
    assert post.attempts == 2 and "cut off" in post.warnings[0]
    assert post.text.endswith("#նորույթ #Կաշվեպայուսակ #սև #բնականկաշի")  # the whole post, to its last line


def test_the_writer_is_measured(ai_sandbox: AISandbox) -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        sample("herald_ai_calls_total", outcome="server_error"),
        sample("herald_ai_calls_total", outcome="ok"),
    )
    retried = sample("herald_ai_posts_total", source="ai", outcome="retried")
    ai_sandbox.control(mode="error_500", times=1)
    generate(ai_sandbox)
    after = (
        sample("herald_ai_calls_total", outcome="server_error"),
        sample("herald_ai_calls_total", outcome="ok"),
    )
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    assert sample("herald_ai_posts_total", source="ai", outcome="retried") == retried + 1


def test_server_errors_are_retried_with_growing_backoff_then_succeed(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="error_500", times=2)
    post = generate(ai_sandbox)
    assert post.source == "ai" and post.attempts == 3
    first, second = ai_sandbox.sleeps
    assert 0.01 <= first <= 0.02 and 0.02 <= second <= 0.04  # base 0.02 * 2**n, jittered to half..all
    assert post.warnings == ("retried after a server error", "retried after a server error")


def test_rate_limit_waits_as_long_as_the_service_asks(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="rate_limit", times=1, retry_after_ms=50)
    post = generate(ai_sandbox)
    assert post.attempts == 2 and ai_sandbox.sleeps == [0.05]
    assert post.warnings == ("retried after a rate limit",)


def test_a_timeout_is_retried(ai_sandbox: AISandbox, settings: Any) -> None:
    settings.AI_TIMEOUT_SECONDS = 0.3
    ai_sandbox.control(mode="timeout", times=1, delay_seconds=0.8)
    post = generate(ai_sandbox)
    assert post.attempts == 2 and post.warnings == ("retried after a timeout",)


def test_a_rejected_key_fails_at_once_for_manual_mode(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="unauthorized")
    with pytest.raises(GenerationFailed) as failed:
        generate(ai_sandbox)
    assert failed.value.permanent is True and failed.value.attempts == 1
    assert "Incorrect API key" in failed.value.cause
    assert ai_sandbox.state()["requests"] == 1 and ai_sandbox.sleeps == []
    assert failed.value.as_dict()["code"] == "ai_generation_failed"


def test_a_service_that_keeps_failing_ends_in_manual_mode_naming_the_cause(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="error_500")
    with pytest.raises(GenerationFailed) as failed:
        generate(ai_sandbox)
    assert failed.value.permanent is False and failed.value.attempts == 3
    assert "server had an error" in failed.value.cause and "after 3 tries" in failed.value.cause
    assert len(ai_sandbox.sleeps) == 2


def test_a_model_that_keeps_writing_latin_ends_in_manual_mode(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="latin")
    with pytest.raises(GenerationFailed) as failed:
        generate(ai_sandbox)
    assert failed.value.attempts == 3  # the first version and AI_MAX_REGENERATIONS=2 more
    assert "Armenian" in failed.value.cause and "unusable" in failed.value.message


def test_regeneration_tells_the_model_what_was_wrong(ai_sandbox: AISandbox) -> None:
    ai_sandbox.control(mode="latin", times=1)
    generate(ai_sandbox)
    feedback = ai_sandbox.state()["last_user_message"]
    assert "cannot be published" in feedback and "Armenian script" in feedback


def test_unreachable_service_is_a_transient_failure(settings: Any) -> None:
    settings.AI_API_KEY = "key"
    settings.AI_BASE_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    settings.AI_MAX_ATTEMPTS = 2
    settings.AI_BACKOFF_SECONDS = 0.01
    with pytest.raises(GenerationFailed) as failed:
        post_generate(format="info", keywords="թեյ", language="hy")
    assert failed.value.permanent is False and "could not connect" in failed.value.cause
