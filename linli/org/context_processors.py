from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from linli.org.access import ANONYMOUS, actor_for


def get_actor(request: HttpRequest) -> Any:
    """The request's actor, loaded once."""
    if not hasattr(request, "_linli_actor"):
        user = getattr(request, "user", None)
        request._linli_actor = actor_for(user) if user is not None else ANONYMOUS  # type: ignore[attr-defined]
    return request._linli_actor  # type: ignore[attr-defined]


def actor(request: HttpRequest) -> dict[str, Any]:
    return {"actor": get_actor(request)}
