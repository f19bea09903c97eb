"""Test helpers for work orders, on top of linli.common.testing.make_world()."""

from __future__ import annotations

from types import SimpleNamespace

from linli.orders import services
from linli.orders.catalogue import catalogue_install
from linli.orders.models import Category, WorkOrder
from linli.orders.services import OrderInput
from linli.org.access import actor_for
from linli.org.models import PartnerUnit


def make_orders(w: SimpleNamespace) -> SimpleNamespace:
    """The default catalogue in communities A and B, and A's property company. Adds to `w`: noise (噪音扰民 in A,
    red in 3 days), repair (物业维修 in A), noiseB, propertyA (a partner unit)."""
    catalogue_install(actor=actor_for(w.staff_a), community=w.A)
    catalogue_install(actor=actor_for(w.staff_b), community=w.B)
    w.noise = Category.objects.get(community=w.A, code="property-noise")
    w.repair = Category.objects.get(community=w.A, code="property-repair")
    w.noiseB = Category.objects.get(community=w.B, code="property-noise")
    w.propertyA = PartnerUnit.objects.create(community=w.A, name="兴庆物业公司", kind="物业公司")
    return w


def file_order(
    w: SimpleNamespace, *, user: object = None, category: str = "property-noise", **extra: object
) -> WorkOrder:
    """A resident's request about building bA1 (filed by resident_a1 unless `user` says otherwise)."""
    actor = actor_for(user or w.resident_a1)
    data = OrderInput(
        category=category,
        description=str(extra.pop("description", "夜里停车道闸抬杆声音太大，影响休息")),
        building_id=w.bA1.pk,
        **extra,  # type: ignore[arg-type]
    )
    channel = "qr" if actor.person_id and not actor.grants else "hotline"
    return services.order_create(actor=actor, community=w.A, data=data, channel=channel).order
