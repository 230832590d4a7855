"""Request and response bodies of the auth API (seed 002's shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BaseModel, Field

from herald.core.schemas import Text

# Generous bounds: long enough for any real username/email/password, short enough that nobody can
# make the server hash a megabyte.
LoginName = Annotated[Text, Field(min_length=1, max_length=254)]
Password = Annotated[Text, Field(min_length=1, max_length=1024)]
JwtString = Annotated[Text, Field(min_length=1, max_length=4096)]


class LoginIn(Schema):
    username: LoginName = Field(description="Username or email address (case-insensitive).")
    password: Password


class RefreshIn(Schema):
    refresh_token: JwtString


class LogoutIn(BaseModel):
    # A plain pydantic model, not a ninja Schema: Schema reads attributes off any object, so with no
    # required field it would accept a JSON list or number as an empty body.
    refresh_token: JwtString | None = Field(
        default=None, description="Ends this login. Optional if an access token is sent as bearer."
    )


class TokenPairOut(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class ProfileOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    groups: list[str]
    date_joined: datetime
