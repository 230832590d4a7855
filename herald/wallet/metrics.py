"""Wallet metrics: activations by status and duration, activation-system errors, status-cache hit rate."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACTIVATIONS = Counter(
    "herald_wallet_activations_total", "Activations that reached an end", ["kind", "status"]
)
ACTIVATION_DURATION = Histogram(
    "herald_wallet_activation_duration_seconds",
    "Time from a transaction's creation to its SUCCESS or FAILED",
    ["status"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
EXTERNAL_CALL_DURATION = Histogram(
    "herald_wallet_activation_call_duration_seconds", "Calls to the activation system", ["outcome"]
)
EXTERNAL_ERRORS = Counter(
    "herald_wallet_activation_errors_total", "Activation-system errors by kind", ["kind", "permanent"]
)
CACHE_LOOKUPS = Counter("herald_wallet_cache_lookups_total", "Wallet cache lookups", ["cache", "outcome"])
