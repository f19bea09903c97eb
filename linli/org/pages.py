"""Helpers every community-scoped staff page shares: which community, the street admin's picker, a person of that
community, a positive id from the query string, and the per-user idempotency key of a form."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from linli.common.errors import NotFound
from linli.org import selectors as org_selectors
from linli.org.access import Actor
from linli.org.models import Community, Person, Role


def community_of(request: HttpRequest, actor: Actor) -> Community:
    """?community=<id> when visible (else 404), or the actor's first community."""
    wanted = request.GET.get("community") or request.POST.get("community")
    if wanted:
        return org_selectors.get_visible(actor, Community, wanted)
    community = org_selectors.communities(actor).first()
    if community is None:
        raise NotFound()
    return community


def picker(actor: Actor, community: Community) -> dict[str, Any]:
    """Template context: the community, and for street admins the list to switch between."""
    return {
        "community": community,
        "communities": org_selectors.communities(actor) if actor.has_role(Role.STREET_ADMIN) else [],
    }


def positive_int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def person_in(actor: Actor, community: Community, pk: Any) -> Person:
    """A person of `community` the actor may see, or 404."""
    person = org_selectors.get_visible(actor, Person, pk)
    if person.community_id != community.pk:
        raise NotFound()
    return person


def form_key(request: HttpRequest, key: str) -> str:
    """A form's idempotency key, kept apart per user so one login can never replay another's request."""
    return f"web:{request.user.pk}:{key}"
