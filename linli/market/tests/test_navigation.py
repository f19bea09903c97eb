"""Each role finds its way into the market from the home page and the menu."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from linli.common.testing import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("user", "present", "absent"),
    [
        ("resident_a1", ["market:shelf", "market:mine"], ["market:counter", "market:voucher_desk"]),
        (
            "staff_a",
            ["market:counter", "market:products", "market:reports", "points:merchant_services"],
            ["market:voucher_desk"],
        ),
        ("grid_worker_a1", ["market:counter", "market:products"], ["market:voucher_desk"]),
        ("auditor_a", ["market:products", "market:reports"], ["market:counter", "points:merchant_services"]),
        ("merchant_op_a", ["market:voucher_desk", "market:shelf"], ["market:counter", "market:products"]),
        ("steward_a1", [], ["market:counter", "market:products", "market:voucher_desk"]),
    ],
)
def test_home_links(world: SimpleNamespace, user: str, present: list[str], absent: list[str]) -> None:
    page = client_for(world.users[user]).get(reverse("home")).content.decode()
    for name in present:
        assert f'href="{reverse(name)}"' in page, name
    for name in absent:
        assert f'href="{reverse(name)}"' not in page, name


def test_the_merchant_desk_leads_to_its_settlement(world: SimpleNamespace) -> None:
    client = client_for(world.merchant_op_a)
    page = client.get(reverse("market:voucher_desk")).content.decode()
    href = f"{reverse('market:settlement')}?merchant={world.mA.pk}"
    assert f'href="{href}"' in page
    assert client.get(href).status_code == 200
