"""What every Herald app stands on: base models, typed errors, metrics, health and shared limits."""
