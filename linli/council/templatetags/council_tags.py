"""The council's pieces on other apps' pages, so those apps need not import the council."""

from __future__ import annotations

from typing import Any

from django import template

from linli.council import selectors

register = template.Library()


@register.inclusion_tag("council/_open_votes_banner.html")
def open_votes_banner(actor: Any) -> dict[str, Any]:
    """On a resident's home: the owners' votes waiting for their ballot, first thing they see."""
    waiting = [v for v in selectors.my_open_votes(actor) if selectors.my_ballot(actor, v) is None]
    return {"votes": waiting}
