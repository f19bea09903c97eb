"""Each role finds its way to the dashboards and the monthly disclosure from the home page."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from linli.common.testing import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("user", "present", "absent"),
    [
        ("staff_a", ["reports:home", "reports:disclosures"], []),
        ("street_admin", ["reports:home", "reports:disclosures"], []),
        ("auditor_a", ["reports:home", "reports:disclosures"], []),
        ("grid_worker_a1", ["reports:home"], ["reports:disclosures"]),
        ("grid_chief_a1", ["reports:home"], ["reports:disclosures"]),
        ("steward_a1", [], ["reports:home", "reports:disclosures"]),
        ("merchant_op_a", [], ["reports:home", "reports:disclosures"]),
        ("resident_a1", [], ["reports:home", "reports:disclosures"]),
    ],
)
def test_home_links(world: SimpleNamespace, user: str, present: list[str], absent: list[str]) -> None:
    page = client_for(world.users[user]).get(reverse("home")).content.decode()
    for name in present:
        assert f'href="{reverse(name)}"' in page, name
    for name in absent:
        assert f'href="{reverse(name)}"' not in page, name


def test_a_resident_finds_the_notices_of_their_community(world: SimpleNamespace) -> None:
    page = client_for(world.resident_a1).get(reverse("home")).content.decode()
    assert f'href="{reverse("reports:public_list", args=[world.A.code])}"' in page
    assert client_for(world.resident_a1).get(reverse("reports:public_list", args=[world.A.code])).status_code == 200
