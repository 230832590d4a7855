"""Seed 002: customers with a balance activate offers at an external system; partners do it for them."""
