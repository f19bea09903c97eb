"""The staff disclosure page (publish, correct, translated refusals) and the public notice pages."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.common.testing import client_for
from linli.ledger.models import Seal, Transfer
from linli.org.access import actor_for
from linli.reports import services
from linli.reports.models import Disclosure
from linli.reports.testing import AFTER, OCTOBER, at, make_october

pytestmark = pytest.mark.django_db
STAFF_URL = reverse("reports:disclosures")
PUBLISH_URL = reverse("reports:disclosure_publish")


@pytest.fixture
def october(world: SimpleNamespace) -> SimpleNamespace:
    return make_october(world)


def _publish(w: SimpleNamespace, key: str = "k", reason: str = "") -> Disclosure:
    with at(AFTER):
        return services.disclosure_publish(
            actor=actor_for(w.staff_a), community=w.A, month=OCTOBER, idempotency_key=key, reason=reason
        ).disclosure


def _key(html: str, month: str) -> str:
    row = html[html.index(f'data-month="{month}"') :]
    found = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', row)
    assert found
    return found[1]


def test_staff_page_lists_twelve_closed_months_and_publishes_october(october: SimpleNamespace) -> None:
    client = client_for(october.staff_a)
    with at(AFTER):
        page = client.get(STAFF_URL)
        html = page.content.decode()
        assert page.status_code == 200
        assert html.count("data-month=") == 12
        assert 'data-month="2026-10"' in html and 'data-month="2025-11"' in html
        assert 'data-testid="publish-2026-10"' in html and _("Not published") in html
        key = _key(html, "2026-10")
        form = {"community": october.A.pk, "month": "2026-10", "idempotency_key": key}
        response = client.post(PUBLISH_URL, form)
        assert response.status_code == 302 and response["Location"] == f"{STAFF_URL}?community={october.A.pk}"
        again = client.post(PUBLISH_URL, form)  # a double click publishes once
        assert again.status_code == 302
        after = client.get(STAFF_URL).content.decode()
    d = Disclosure.objects.get()
    assert d.revision == 1 and d.published_by == october.staff_a and d.month == OCTOBER
    assert Seal.objects.filter(community=october.A, month="2026-10").exists()
    row = after[after.index('data-month="2026-10"') :]
    assert 'data-testid="state-published"' in row[:2000]
    assert reverse("reports:public_pdf", args=[october.A.code, "2026-10"]) in after
    assert 'data-testid="correct-2026-10"' in after


def test_correction_needs_a_reason_and_makes_revision_two(october: SimpleNamespace) -> None:
    first = _publish(october)
    client = client_for(october.staff_a)
    with at(AFTER):
        html = client.get(STAFF_URL).content.decode()
        form = {"community": october.A.pk, "month": "2026-10", "idempotency_key": _key(html, "2026-10"), "correct": "1"}
        refused = client.post(PUBLISH_URL, form)
        assert refused.status_code == 400
        assert str(services.ReasonRequired.default_message) in refused.content.decode()
        assert Disclosure.objects.count() == 1
        done = client.post(PUBLISH_URL, {**form, "reason": "漏记一次环境清扫"})
        assert done.status_code == 302
    first.refresh_from_db()
    second = Disclosure.objects.get(replaced_at__isnull=True)
    assert first.replaced_at is not None and second.revision == 2 and second.reason == "漏记一次环境清扫"


def test_a_month_not_over_is_refused_with_the_translated_message(october: SimpleNamespace) -> None:
    client = client_for(october.staff_a)
    with at(AFTER):
        response = client.post(PUBLISH_URL, {"community": october.A.pk, "month": "2026-11", "idempotency_key": "abc"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-code="month_not_over"' in html and str(services.MonthNotOver.default_message) in html
    assert not Disclosure.objects.exists()
    with at(AFTER):
        bad = client.post(PUBLISH_URL, {"community": october.A.pk, "month": "2026-13", "idempotency_key": "abc"})
    assert bad.status_code == 400 and 'data-code="month_invalid"' in bad.content.decode()


def test_readers_see_no_buttons_and_may_not_post(october: SimpleNamespace) -> None:
    _publish(october)
    for name in ("auditor_a", "grid_worker_a1"):
        client = client_for(getattr(october, name))
        with at(AFTER):
            html = client.get(STAFF_URL).content.decode()
            assert 'data-testid="state-published"' in html and "publish-2026-09" not in html
            refused = client.post(PUBLISH_URL, {"community": october.A.pk, "month": "2026-09", "idempotency_key": "x"})
        assert refused.status_code in {403, 404}
    assert Disclosure.objects.count() == 1


def test_public_notice_shows_the_frozen_figures_and_the_seal(october: SimpleNamespace) -> None:
    d = _publish(october)
    url = reverse("reports:public_notice", args=[october.A.code, "2026-10"])
    response = client_for(None).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert october.A.name in html
    assert "王*英" in html and "王秀英" not in html  # masked names only
    for person in (october.pA1, october.pA2):  # never a phone or an address
        assert person.phone and person.phone not in html
    root = d.seal.merkle_root
    groups = " ".join(f"<span>{root[i : i + 8]}</span>" for i in range(0, 64, 8))
    assert groups in html
    assert d.digest in html
    assert f"/ledger/proof/?month=2026-10&amp;community={october.A.code}" in html
    assert "<svg" in html  # the QR code, inline
    assert re.search(r'data-testid="n-end">\s*33<', html) and re.search(r'data-testid="n-earned">\s*\+28<', html)
    assert "100%" in html  # satisfaction 1 of 1


def test_a_rate_with_nothing_to_count_reads_a_dash(october: SimpleNamespace) -> None:
    d = _publish(october)
    figures = dict(d.figures)
    figures["orders"] = {**figures["orders"], "rated": 0, "satisfied": 0, "satisfaction_rate": None}
    Disclosure.objects.filter(pk=d.pk).update(figures=figures)
    html = client_for(None).get(reverse("reports:public_notice", args=[october.A.code, "2026-10"])).content.decode()
    found = re.search(r'data-testid="n-satisfaction">(.*?)</td>', html, re.S)
    assert found and "—" in found[1] and "0%" not in found[1]


def test_an_earlier_revision_is_marked_replaced(october: SimpleNamespace) -> None:
    _publish(october)
    _publish(october, key="k2", reason="补录")
    url = reverse("reports:public_notice", args=[october.A.code, "2026-10"])
    old = client_for(None).get(url + "?revision=1").content.decode()
    assert 'data-testid="n-replaced"' in old and "补录" in old
    current = client_for(None).get(url).content.decode()
    assert 'data-testid="n-replaced"' not in current and 'data-testid="n-reason"' in current
    assert client_for(None).get(url + "?revision=9").status_code == 404
    assert client_for(None).get(url + "?revision=x").status_code == 404


def test_public_list_and_unknown_pages(october: SimpleNamespace) -> None:
    _publish(october)
    anon = client_for(None)
    listing = anon.get(reverse("reports:public_list", args=[october.A.code]))
    assert listing.status_code == 200
    assert reverse("reports:public_notice", args=[october.A.code, "2026-10"]) in listing.content.decode()
    assert anon.get(reverse("reports:public_list", args=["nowhere"])).status_code == 404
    assert anon.get(reverse("reports:public_notice", args=[october.A.code, "2026-09"])).status_code == 404
    assert anon.get(reverse("reports:public_notice", args=[october.A.code, "2026-99"])).status_code == 404
    assert anon.get(reverse("reports:public_pdf", args=["nowhere", "2026-10"])).status_code == 404
    assert anon.get(reverse("reports:public_xlsx", args=[october.B.code, "2026-10"])).status_code == 404


def test_proof_page_names_the_sealed_book_of_the_notice(october: SimpleNamespace) -> None:
    d = _publish(october)
    entry = Transfer.objects.filter(community=october.A, created_at__month=10, created_at__year=2026).first()
    assert entry is not None
    base = f"{reverse('ledger:proof')}?month=2026-10&community={october.A.code}"
    anon = client_for(None)
    html = anon.get(base).content.decode()
    assert 'data-testid="proof-seal"' in html and d.seal.merkle_root in html
    ok = anon.get(f"{base}&ref={entry.reference}").content.decode()
    assert 'data-testid="proof-in-seal"' in ok and 'data-testid="proof-not-in-seal"' not in ok
    # a September entry is proven too, once September is sealed, but it is not in October's book
    september = Transfer.objects.get(idempotency_key__contains="reports-september")
    with at(AFTER):
        services.disclosure_publish(
            actor=None, community=october.A, month=services.month_from_text("2026-09"), idempotency_key="sep"
        )
    other = anon.get(f"{base}&ref={september.reference}").content.decode()
    assert 'data-testid="proof-not-in-seal"' in other and 'data-testid="proof-in-seal"' not in other
    # without the notice's parameters the page is as before
    plain = anon.get(f"{reverse('ledger:proof')}?ref={entry.reference}").content.decode()
    assert "proof-seal" not in plain and "proof-in-seal" not in plain
