"""Prometheus metrics of the AI post writer: calls to the AI service by outcome, posts by who wrote them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

AI_CALLS = Counter("herald_ai_calls_total", "Chat completion calls to the AI service", ["outcome"])
AI_CALL_DURATION = Histogram(
    "herald_ai_call_duration_seconds",
    "Time the AI service took to answer (or fail)",
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)
AI_POSTS = Counter(
    "herald_ai_posts_total",
    "Posts asked of the writer: source ai or template, outcome written, retried (or regenerated) or failed",
    ["source", "outcome"],
)
