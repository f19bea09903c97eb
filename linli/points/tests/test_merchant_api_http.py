"""Caring merchants' service points under real concurrent HTTP requests on a real database (the threaded server and
clients of linli/market/tests/test_http_concurrency.py): a double-submitted record posts once, and records racing
for one rule's daily cap never go beyond it (the shop's ledger account is the queue)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.utils import timezone

from linli.common.testing import make_world
from linli.ledger.models import Transfer
from linli.ledger.selectors import merchant_balance
from linli.ledger.tests.test_concurrency import assert_books_hold, assert_real_database, real_db  # noqa: F401
from linli.market.tests.test_http_concurrency import _post, _race, live_root, live_url  # noqa: F401
from linli.org.models import ApiToken
from linli.org.services import token_hash
from linli.points.models import MerchantService
from linli.points.testing import make_catalogue


def _setup() -> tuple[SimpleNamespace, str]:
    w = make_catalogue(make_world())
    token = "lnl_http_merchant_" + "x" * 20
    ApiToken.objects.create(user=w.staff_a, name="台账", prefix=token[:12], key_hash=token_hash(token))
    return w, token


def test_a_double_submitted_record_posts_once(live_url: str) -> None:  # noqa: F811
    assert_real_database()
    w, token = _setup()
    body: dict[str, Any] = {"rule_id": w.mediation.pk, "quantity": 2, "occurred_on": str(timezone.localdate())}
    url = f"{live_url}/points/merchants/{w.mA.pk}/services"
    connection.close()

    answers = _race(8, lambda _i: _post(url, token, "haircuts-once", body))

    assert sorted(status for status, _b in answers) == [200] * 7 + [201], answers[:3]
    assert len({b["id"] for _status, b in answers}) == 1
    assert MerchantService.objects.count() == 1 and merchant_balance(w.mA.pk) == 16
    assert Transfer.objects.filter(ref_type="merchant_service").count() == 1
    assert_books_hold()


def test_records_racing_for_the_daily_cap_never_pass_it(live_url: str) -> None:  # noqa: F811
    assert_real_database()
    w, token = _setup()
    body: dict[str, Any] = {"rule_id": w.cleanup.pk, "quantity": 2, "occurred_on": str(timezone.localdate())}
    url = f"{live_url}/points/merchants/{w.mA.pk}/services"
    connection.close()

    answers = _race(8, lambda i: _post(url, token, f"cleanup-{i}", body))  # 6 points each, the cap is 9 a day

    assert sorted(status for status, _b in answers) == [201] + [409] * 7, answers[:3]
    assert {b["code"] for status, b in answers if status == 409} == {"cap_exceeded"}
    assert MerchantService.objects.count() == 1 and merchant_balance(w.mA.pk) == 6
    assert_books_hold()
