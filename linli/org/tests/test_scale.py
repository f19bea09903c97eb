"""SEEDS.md 004: a community of 3 grids, 14 compounds, 34 buildings and 5,156 households lists, searches and pages
instantly — for staff and for a grid worker, whose scope is a join through memberships."""

import time

import pytest
from django.urls import reverse

from linli.common.testing import client_for, make_large_community
from linli.org.models import Grid, Household, Person, Role, RoleAssignment

LIMIT_S = 0.5  # generous for a 2-core CI machine; bench/org_lists.py records the real figures


@pytest.fixture
def big(world):
    community = make_large_community(world.S, households=5156)
    RoleAssignment.objects.create(user=world.staff_a, role=Role.COMMUNITY_STAFF, community=community)
    RoleAssignment.objects.create(
        user=world.grid_worker_a2, role=Role.GRID_WORKER, grid=Grid.objects.filter(community=community).first()
    )
    return community


def _timed(client, url, params):
    client.get(url, params)  # warm caches (templates, connections)
    start = time.perf_counter()
    response = client.get(url, params)
    return response, time.perf_counter() - start


CASES = [
    ("org:people", {}),
    ("org:people", {"q": "王秀"}),
    ("org:people", {"q": "19900001"}),
    ("org:people", {"tag": "elder_alone"}),
    ("org:people", {"page": "200"}),
    ("org:households", {}),
    ("org:households", {"q": "3单元"}),
    ("org:households", {"page": "100"}),
    ("org:structure", {}),
]


def test_large_community_lists_search_and_pages_instantly(world, big):
    """One build of the large community (a few seconds), then every list, search and deep page for two roles."""
    assert Household.objects.filter(community=big).count() == 5156
    assert Person.objects.filter(community=big).count() > 12000
    slow = []
    for who in ("staff_a", "grid_worker_a2"):
        client = client_for(world.users[who])
        for url, params in CASES:
            response, seconds = _timed(client, reverse(url), {"community": big.id, **params})
            assert response.status_code == 200, (who, url, params)
            if seconds >= LIMIT_S:
                slow.append(f"{who} {url} {params}: {seconds:.3f}s")
    assert not slow, slow
