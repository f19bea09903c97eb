"""Publishing the monthly disclosure: the seal, the frozen figures, retries, corrections, who may, races."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from linli.common.errors import DomainError
from linli.common.models import AuditEvent
from linli.ledger import services as ledger
from linli.ledger.models import Seal
from linli.ledger.tests.test_concurrency import assert_real_database, real_db, run_threads  # noqa: F401
from linli.org.access import actor_for
from linli.reports import domain, services
from linli.reports.models import CommunityMonth, Disclosure
from linli.reports.testing import AFTER, OCTOBER, at, make_october

pytestmark = pytest.mark.django_db


@pytest.fixture
def october(world: SimpleNamespace) -> SimpleNamespace:
    return make_october(world)


def publish(w: SimpleNamespace, key: str = "k1", reason: str = "", user: object = None) -> services.Published:
    with at(AFTER):
        return services.disclosure_publish(
            actor=actor_for(user or w.staff_a), community=w.A, month=OCTOBER, idempotency_key=key, reason=reason
        )


def test_publish_seals_the_month_and_freezes_the_figures(october: SimpleNamespace) -> None:
    published = publish(october)
    d = published.disclosure
    assert published.created and d.revision == 1 and d.published_by == october.staff_a
    seal = Seal.objects.get(community=october.A, month="2026-10")
    assert d.seal == seal and d.figures["seal"]["root"] == seal.merkle_root
    assert d.digest == domain.digest(d.figures) and len(d.digest) == 64
    assert d.figures["points"]["earned"] == 28 and d.figures["points"]["circulation_end"] == 33
    # the stored month is the published one, so dashboards agree with the notice board
    assert CommunityMonth.objects.get(community=october.A, month=OCTOBER).figures == d.figures
    assert AuditEvent.objects.filter(action="report.publish", object_id=d.pk).exists()


def test_published_figures_do_not_move_when_later_events_arrive(october: SimpleNamespace) -> None:
    d = publish(october).disclosure
    with at(AFTER):  # a late award posted after the month is dated November: October's notice stays as it was
        ledger.award(person=october.pA2, amount=7, actor=october.staff_a, idempotency_key="late")
    again = publish(october, key="k2")
    assert not again.created and again.disclosure.pk == d.pk
    assert Disclosure.objects.get(pk=d.pk).figures == d.figures


def test_retry_with_the_same_key_returns_the_first(october: SimpleNamespace) -> None:
    first = publish(october, key="same")
    second = publish(october, key="same")
    assert not second.created and second.disclosure.pk == first.disclosure.pk
    assert Disclosure.objects.count() == 1
    with at(AFTER):
        other_month = OCTOBER.replace(month=9)
        with pytest.raises(services.KeyReused):
            services.disclosure_publish(
                actor=actor_for(october.staff_a), community=october.A, month=other_month, idempotency_key="same"
            )


def test_a_correction_is_a_new_revision_and_keeps_the_old(october: SimpleNamespace) -> None:
    first = publish(october).disclosure
    corrected = publish(october, key="k2", reason="漏记一笔捐赠").disclosure
    assert corrected.revision == 2 and corrected.reason == "漏记一笔捐赠"
    first.refresh_from_db()
    assert first.replaced_at is not None and corrected.replaced_at is None
    assert Disclosure.objects.filter(community=october.A, month=OCTOBER).count() == 2
    third = publish(october, key="k3").disclosure  # no reason: the current one comes back, nothing new
    assert third.pk == corrected.pk


def test_a_month_not_over_is_refused(october: SimpleNamespace) -> None:
    with at(AFTER), pytest.raises(services.MonthNotOver) as refused:
        services.disclosure_publish(
            actor=actor_for(october.staff_a), community=october.A, month=OCTOBER.replace(month=11), idempotency_key="x"
        )
    assert refused.value.status == 409 and refused.value.code == "month_not_over"
    assert not Seal.objects.filter(month="2026-11").exists() and not Disclosure.objects.exists()


def test_only_staff_of_the_community_publish(october: SimpleNamespace) -> None:
    for outsider in ("staff_b", "auditor_a", "grid_worker_a1", "grid_chief_a1", "resident_a1", "merchant_op_a"):
        with pytest.raises(DomainError) as refused:
            publish(october, key=f"k-{outsider}", user=getattr(october, outsider))
        assert refused.value.status in {403, 404}, outsider
    assert not Disclosure.objects.exists() and not Seal.objects.exists()
    assert publish(october, user=october.street_admin).created  # the street office may publish for a community


def test_month_text() -> None:
    assert services.month_from_text("2026-10") == OCTOBER
    for bad in ["2026-13", "26-10", "", "2026/10", "2026-1", "abcd-ef"]:
        with pytest.raises(services.MonthInvalid):
            services.month_from_text(bad)


def test_six_staff_publishing_at_once_make_one_disclosure(real_db: None) -> None:  # noqa: F811
    from linli.common.testing import make_world

    assert_real_database()
    w = make_october(make_world())
    staff = actor_for(w.staff_a)

    def press(i: int) -> int:
        with at(AFTER):
            return services.disclosure_publish(
                actor=staff, community=w.A, month=OCTOBER, idempotency_key=f"press-{i}"
            ).disclosure.pk

    results = run_threads(6, press)
    assert all(kind == "ok" for kind, _ in results), results
    assert len({pk for _, pk in results}) == 1
    assert Disclosure.objects.count() == 1 and Seal.objects.filter(month="2026-10").count() == 1
