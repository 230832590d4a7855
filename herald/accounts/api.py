"""Auth endpoints at the seed's paths: /api/v1/auth/{login,refresh,logout,profile}/."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from herald.accounts import services
from herald.accounts.auth import JWTAuth, bearer_token, request_principal
from herald.accounts.schemas import LoginIn, LogoutIn, ProfileOut, RefreshIn, TokenPairOut
from herald.accounts.selectors import user_group_names
from herald.core.errors import Unauthorized
from herald.core.schemas import ErrorOut

router = Router(tags=["auth"])


@router.post(
    "/login/",
    response={200: TokenPairOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    summary="Log in with username (or email) and password",
)
def login(request: HttpRequest, payload: LoginIn) -> services.TokenPair:
    """Wrong credentials and inactive users get 401 ``invalid_credentials``; too many attempts, 429."""
    return services.auth_login(
        username=payload.username,
        password=payload.password,
        client_ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.headers.get("User-Agent", ""),
    )


@router.post(
    "/refresh/",
    response={200: TokenPairOut, 400: ErrorOut, 401: ErrorOut},
    summary="Exchange a refresh token for a new pair (the old one stops working)",
)
def refresh(request: HttpRequest, payload: RefreshIn) -> services.TokenPair:
    """Reusing a refresh token that was already exchanged revokes the whole login (401 ``token_reused``)."""
    return services.auth_refresh(refresh_token=payload.refresh_token)


@router.post(
    "/logout/",
    response={204: None, 400: ErrorOut, 401: ErrorOut},
    summary="End a login: its refresh and access tokens stop working",
)
def logout(request: HttpRequest, payload: LogoutIn | None = None) -> Status[None]:
    """Send the refresh token in the body, or the access token as ``Authorization: Bearer``, or both."""
    services.auth_logout(
        refresh_token=payload.refresh_token if payload else None, access_token=bearer_token(request)
    )
    return Status(204, None)


@router.get(
    "/profile/",
    auth=JWTAuth(),
    response={200: ProfileOut, 401: ErrorOut},
    summary="The signed-in user's profile",
)
def profile(request: HttpRequest) -> ProfileOut:
    user = request_principal(request).user
    if user is None:  # JWTAuth always sets a user; this keeps the type checker honest
        raise Unauthorized("No user is signed in.")
    return ProfileOut(
        id=user.pk,
        username=user.username,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        is_staff=user.is_staff,
        groups=user_group_names(user=user),
        date_joined=user.date_joined,
    )
