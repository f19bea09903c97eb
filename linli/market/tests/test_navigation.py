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
        ("staff_a", ["market:counter", "market:products"], ["market:voucher_desk"]),
        ("grid_worker_a1", ["market:counter", "market:products"], ["market:voucher_desk"]),
        ("auditor_a", ["market:products"], ["market:counter"]),
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
