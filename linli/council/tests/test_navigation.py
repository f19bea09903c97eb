"""Each role finds its way into the council from the home page; an owner whose ballot is awaited sees it first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from linli.common.testing import client_for
from linli.council import services
from linli.council.testing import add_roof_units, make_vote
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("user", "present", "absent"),
    [
        (
            "resident_a1",
            ["council:meetings", "council:evaluation_desk", "council:my_votes"],
            ["council:resolutions", "council:figures"],
        ),
        ("staff_a", ["council:meetings", "council:resolutions", "council:votes", "council:figures"], []),
        ("grid_worker_a1", ["council:meetings", "council:resolutions", "council:votes"], ["council:figures"]),
        ("grid_chief_a1", ["council:resolutions", "council:figures"], []),
        ("auditor_a", ["council:resolutions", "council:figures"], []),
        ("merchant_op_a", [], ["council:resolutions", "council:votes", "council:figures"]),
    ],
)
def test_home_links(world: SimpleNamespace, user: str, present: list[str], absent: list[str]) -> None:
    page = client_for(world.users[user]).get(reverse("home")).content.decode()
    for name in present:
        assert f'href="{reverse(name)}"' in page, name
    for name in absent:
        assert f'href="{reverse(name)}"' not in page, name


def test_an_owner_sees_the_vote_awaiting_their_ballot_until_they_cast_it(world: SimpleNamespace) -> None:
    add_roof_units(world)
    vote = make_vote(world)
    client = client_for(world.resident_a1)
    link = f'href="{reverse("council:my_vote", args=[vote.pk])}"'
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="open-vote-banner"' in page and link in page
    services.ballot_cast(actor=actor_for(world.resident_a1), vote=vote, choice="agree")
    assert 'data-testid="open-vote-banner"' not in client.get(reverse("home")).content.decode()
    # someone not on the roll never sees it
    assert 'data-testid="open-vote-banner"' not in client_for(world.staff_a).get(reverse("home")).content.decode()


def test_the_two_echo_walls_point_at_each_other(world: SimpleNamespace) -> None:
    client = client_for(None)
    council = reverse("council:echo_wall", args=[world.A.code])
    orders = reverse("orders:echo_wall", args=[world.A.code])
    assert f'href="{orders}"' in client.get(council).content.decode()
    assert f'href="{council}"' in client.get(orders).content.decode()
