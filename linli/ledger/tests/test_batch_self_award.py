"""The self-award guard of a batch: one query for every leg, still refusing a batch that credits the actor."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.common.errors import Forbidden
from linli.ledger import services
from linli.ledger.models import SystemAccount, Transfer, TransferKind

pytestmark = pytest.mark.django_db


def test_batch_refuses_a_leg_that_credits_the_actor(world) -> None:
    issuance = services.system_account(world.A, SystemAccount.ISSUANCE)
    legs = [
        services.Leg(issuance, services.account_for_person(p), 5, TransferKind.AWARD) for p in (world.pA2, world.pA1)
    ]
    with pytest.raises(Forbidden) as caught:
        services.transfer_post_batch(community=world.A, legs=legs, actor=world.resident_a1, idempotency_key="b1")
    assert caught.value.code == "self_award"
    assert not Transfer.objects.exists()


def test_batch_checks_every_leg_in_one_query(world) -> None:
    issuance = services.system_account(world.A, SystemAccount.ISSUANCE)
    legs = [
        services.Leg(issuance, services.account_for_person(p), 5, TransferKind.AWARD)
        for p in (world.pA1, world.pA1b, world.pA2)
    ]
    with CaptureQueriesContext(connection) as captured:
        services.transfer_post_batch(community=world.A, legs=legs, actor=world.staff_a, idempotency_key="b2")
    assert sum('"org_person"' in q["sql"] for q in captured.captured_queries) == 1
    assert Transfer.objects.count() == 3
