"""Auth endpoints at the seed's paths: /api/v1/auth/{login,refresh,logout,profile}/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["auth"])
