"""The passbook: the resident's page, the staff view in scope, keyset paging, and the printed PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from PIL import Image

from linli.common.testing import client_for
from linli.ledger import pdf, selectors, services
from linli.ledger.models import Account, SystemAccount, TransferKind
from linli.ledger.views_passbook import signed

MEMOS = ["清扫楼道", "义务理发", "垃圾分类督导", "关爱空巢老人", "夜间巡逻"]


def _awards(w: SimpleNamespace, n: int, *, key: str = "hist", start: int = 1) -> list[Any]:
    """n awards to pA1 in one atomic batch (amounts start, start+1, ...), with Chinese memos."""
    issuance = services.system_account(w.A, SystemAccount.ISSUANCE)
    account = services.account_for_person(w.pA1)
    legs = [
        services.Leg(issuance, account, start + i, TransferKind.AWARD, memo=MEMOS[i % len(MEMOS)]) for i in range(n)
    ]
    return services.transfer_post_batch(community=w.A, legs=legs, actor=w.staff_a, idempotency_key=key)


def _spend(w: SimpleNamespace, amount: int, key: str, memo: str = "") -> Any:
    return services.transfer_post(
        debit=services.account_for_person(w.pA1),
        credit=services.system_account(w.A, SystemAccount.MARKET),
        amount=amount,
        kind=TransferKind.REDEMPTION,
        actor=w.staff_a,
        idempotency_key=key,
        memo=memo,
    ).transfer


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-transfer="(\d+)"', html)]


def _afters(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-testid="pb-after">(\d+)<', html)]


def _my_page(w: SimpleNamespace, query: str = "") -> str:
    response = client_for(w.resident_a1).get(reverse("ledger:my_passbook") + query)
    assert response.status_code == 200
    return response.content.decode()


# --- the page -------------------------------------------------------------------------------------------------------


def test_resident_reads_own_passbook(world: SimpleNamespace) -> None:
    _awards(world, 1, start=100)
    spent = _spend(world, 30, "r1")
    rev = services.transfer_reverse(transfer=spent, actor=world.staff_a, idempotency_key="rev1").transfer
    _spend(world, 15, "r2", memo="兑换大米")
    html = _my_page(world)
    assert "王秀英" in html and world.A.name in html
    assert 'data-testid="pb-balance">85<' in html
    # newest first; sign in the text, not only the colour
    account = Account.objects.get(person=world.pA1)
    lines = selectors.passbook_page(account)
    assert _ids(html) == [line.transfer.pk for line in lines]
    assert _afters(html) == [line.balance_after for line in lines] == [85, 100, 70, 100]
    assert "−15" in html and "+30" in html and "−30" in html and "+100" in html
    assert "兑换大米" in html and "积分超市" in html  # memo, and the market as the other side
    assert "冲正" in html or str(rev.memo) in html
    # each line links to the public proof page by its reference
    assert f'href="/ledger/proof/?ref={spent.reference}"' in html
    proof = client_for(None).get(f"/ledger/proof/?ref={spent.reference}")  # public: no login needed
    # the public page knows the entry (409 = not in a sealed month yet; after the month's seal it shows the proof)
    assert proof.status_code in {200, 409} and spent.reference in proof.content.decode()
    # this year's totals
    assert "100" in html and "130" in html and "45" in html
    totals = selectors.totals(account)
    assert (totals.earned, totals.spent) == (130, 45)


def test_what_for_falls_back_to_the_kind_and_names_the_community(world: SimpleNamespace) -> None:
    services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="no-memo")
    html = _my_page(world)
    assert "获得积分" in html  # the kind's label when there is no memo
    assert 'class="pb-who">大兴东路社区<' in html  # new points come from the community


def test_empty_passbook_creates_nothing(world: SimpleNamespace) -> None:
    html = _my_page(world)
    assert 'data-testid="pb-balance">0<' in html and "pb-older" not in html
    assert not Account.objects.filter(person=world.pA1).exists()


def test_signed_text() -> None:
    assert signed(12) == "+12" and signed(-7) == "−7"


def test_keyset_pages_do_not_overlap(world: SimpleNamespace) -> None:
    transfers = _awards(world, 45)
    newest_first = [t.pk for t in reversed(transfers)]
    first = _my_page(world)
    assert _ids(first) == newest_first[:20]
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None and older.group(1).endswith(f"?before={newest_first[19]}")
    second = _my_page(world, f"?before={newest_first[19]}")
    assert _ids(second) == newest_first[20:40]
    assert not set(_ids(first)) & set(_ids(second))
    third = _my_page(world, f"?before={newest_first[39]}")
    assert _ids(third) == newest_first[40:] and 'rel="next"' not in third
    # running balances are the selector's, page by page
    assert _afters(second) == [t.credit_balance_after for t in reversed(transfers[5:25])]
    assert "?before" not in first.split("pb-lines")[0]  # no "newest" link on the first page


def test_exactly_one_page_has_no_older_link(world: SimpleNamespace) -> None:
    _awards(world, 20)
    assert 'rel="next"' not in _my_page(world)


@pytest.mark.parametrize("before", ["abc", "-3", "0", "99999999999999999999999", "1.5"])
def test_broken_before_is_a_clear_400(world: SimpleNamespace, before: str) -> None:
    response = client_for(world.resident_a1).get(reverse("ledger:my_passbook"), {"before": before})
    assert response.status_code == 400
    assert "before_invalid" in response.content.decode() or response.content


def test_large_history_first_page_is_fast(world: SimpleNamespace, django_assert_max_num_queries: Any) -> None:
    _awards(world, 1200, key="big")
    for i in range(5):
        _spend(world, 3, f"spend-{i}")
    client = client_for(world.resident_a1)
    url = reverse("ledger:my_passbook")
    client.get(url)  # warm the template cache
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    best = min(_timed(client, url) for _ in range(3))
    assert best < 0.3, f"page 1 of a 1,205-line passbook took {best:.3f}s"
    # deep in the history costs the same
    deep = min(_timed(client, url + "?before=60") for _ in range(3))
    assert deep < 0.3, f"a deep page took {deep:.3f}s"


def _timed(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200
    return time.perf_counter() - started


# --- who sees whose passbook ----------------------------------------------------------------------------------------


def _staff_get(w: SimpleNamespace, user: str, person: Any) -> Any:
    return client_for(w.users[user]).get(reverse("ledger:passbook", args=[person.pk]))


def test_scope_of_the_staff_view(world: SimpleNamespace) -> None:
    _awards(world, 3)
    for user in ("staff_a", "street_admin", "grid_worker_a1", "grid_chief_a1"):
        response = _staff_get(world, user, world.pA1)
        assert response.status_code == 200 and "王秀英" in response.content.decode(), user
    for user in ("grid_worker_a2", "staff_b", "staff_c", "steward_a1", "merchant_op_a"):
        assert _staff_get(world, user, world.pA1).status_code == 404, user
    # a resident reads only their own
    assert _staff_get(world, "resident_a1", world.pA1).status_code == 200
    assert _staff_get(world, "resident_a1", world.pA2).status_code == 404
    assert client_for(world.resident_a1).get(reverse("ledger:passbook_pdf", args=[world.pA2.pk])).status_code == 404
    # an unknown person is the same 404
    assert _staff_get(world, "staff_a", SimpleNamespace(pk=999_999)).status_code == 404


def test_auditor_sees_masked_names(world: SimpleNamespace) -> None:
    # a gift from another resident: the other side's name is masked for the auditor and for the resident too
    services.award(person=world.pA2, amount=50, actor=world.staff_a, idempotency_key="a2")
    services.transfer_post(
        debit=services.account_for_person(world.pA2),
        credit=services.account_for_person(world.pA1),
        amount=20,
        kind=TransferKind.GIFT,
        actor=world.staff_a,
        idempotency_key="gift",
    )
    html = _staff_get(world, "auditor_a", world.pA1).content.decode()
    assert "王*英" in html and "王秀英" not in html and "李*华" in html and "李建华" not in html
    assert 'data-testid="pb-balance">20<' in html
    mine = _my_page(world)
    assert "王秀英" in mine and "李*华" in mine and "李建华" not in mine
    staff = _staff_get(world, "staff_a", world.pA1).content.decode()
    assert "王秀英" in staff and "李建华" in staff


def test_someone_without_a_person_has_no_own_passbook(world: SimpleNamespace) -> None:
    for user in ("staff_a", "auditor_a"):
        assert client_for(world.users[user]).get(reverse("ledger:my_passbook")).status_code == 404


def test_home_tile_and_person_buttons(world: SimpleNamespace) -> None:
    _awards(world, 1, start=42)
    home = client_for(world.resident_a1).get(reverse("home")).content.decode()
    assert reverse("ledger:my_passbook") in home and re.search(r'class="stat">42<', home)
    detail = client_for(world.staff_a).get(reverse("org:person_detail", args=[world.pA1.pk])).content.decode()
    assert reverse("ledger:passbook", args=[world.pA1.pk]) in detail
    assert reverse("ledger:card", args=[world.pA1.pk]) in detail
    steward = client_for(world.steward_a1).get(reverse("org:person_detail", args=[world.pA1.pk])).content.decode()
    assert reverse("ledger:passbook", args=[world.pA1.pk]) not in steward
    auditor = client_for(world.auditor_a).get(reverse("org:person_detail", args=[world.pA1.pk])).content.decode()
    assert reverse("ledger:passbook", args=[world.pA1.pk]) in auditor
    assert reverse("ledger:card", args=[world.pA1.pk]) not in auditor


# --- the printed passbook -------------------------------------------------------------------------------------------


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_printed_passbook_renders_chinese(world: SimpleNamespace, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), "poppler-utils is missing"
    transfers = _awards(world, 60, start=10)
    _spend(world, 123, "r-pdf", memo="兑换洗衣液")
    response = client_for(world.resident_a1).get(reverse("ledger:my_passbook_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    path = tmp_path / "passbook.pdf"
    path.write_bytes(response.content)
    assert response.content.startswith(b"%PDF")

    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert pngs, "pdftoppm wrote no page image"
    with Image.open(pngs[0]) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert (width, height) == pytest.approx((496, 702), abs=3)  # A4 at 60 dpi
        dark = sum(gray.histogram()[:160])
    assert dark / (width * height) > 0.02, "the first page is (nearly) blank"
    keep = Path(settings.BASE_DIR) / "var" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(pngs[0], keep / "passbook-pdf-page1.png")

    text = _pdf_text(path)
    balance = sum(range(10, 70)) - 123
    assert gettext("Points passbook") in text
    if gettext("Points passbook") != "Points passbook":  # translated: the title is the Chinese 积分存折
        assert "积分存折" in text
    assert "王秀英" in text and "大兴东路社区" in text and "清扫楼道" in text and "兑换洗衣液" in text
    assert str(balance) in text
    # every line, oldest first, with the page's running balances and references
    account = Account.objects.get(person=world.pA1)
    lines = pdf.all_lines(account)
    assert [line.transfer.pk for line in lines] == sorted(t.pk for t in [*transfers, lines[-1].transfer])
    flat = re.sub(r"\s+", " ", text)
    positions = [flat.find(line.transfer.reference) for line in lines]
    assert -1 not in positions and positions == sorted(positions)
    assert f"−123 {balance}" in flat
    assert f"+69 {balance + 123}" in flat


def test_printed_passbook_matches_the_page(world: SimpleNamespace, tmp_path: Path) -> None:
    _awards(world, 5, start=20)
    _spend(world, 7, "r-m")
    page = _my_page(world)
    path = tmp_path / "p.pdf"
    path.write_bytes(client_for(world.resident_a1).get(reverse("ledger:my_passbook_pdf")).content)
    flat = re.sub(r"\s+", " ", _pdf_text(path))
    for ref, after in zip(re.findall(r"\?ref=([\w-]+)", page), _afters(page), strict=True):
        assert re.search(rf"[+−]\d+ {after} {ref}", flat), (ref, after)


def test_auditor_pdf_masks_the_name(world: SimpleNamespace, tmp_path: Path) -> None:
    _awards(world, 2)
    response = client_for(world.auditor_a).get(reverse("ledger:passbook_pdf", args=[world.pA1.pk]))
    assert response.status_code == 200
    path = tmp_path / "a.pdf"
    path.write_bytes(response.content)
    text = _pdf_text(path)
    assert "王*英" in text and "王秀英" not in text


def test_empty_printed_passbook(world: SimpleNamespace) -> None:
    response = client_for(world.staff_a).get(reverse("ledger:passbook_pdf", args=[world.pA2.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert not Account.objects.filter(person=world.pA2).exists()


def test_year_totals_count_only_this_year(world: SimpleNamespace) -> None:
    last_year = timezone.localtime().replace(month=6, day=1) - timedelta(days=365)
    services.transfer_post(
        debit=services.system_account(world.A, SystemAccount.ISSUANCE),
        credit=services.account_for_person(world.pA1),
        amount=500,
        kind=TransferKind.AWARD,
        actor=world.staff_a,
        idempotency_key="old",
        memo="去年的积分",
        at=last_year,
    )
    _awards(world, 1, start=7)
    _spend(world, 3, "now")
    html = _my_page(world)
    assert 'data-testid="pb-balance">504<' in html
    year = timezone.localdate().year
    assert re.search(rf"{year}\D+7\D+3", html)  # earned 7, spent 3 this year; last year's 500 is not in it
    assert f"{last_year:%Y-%m-%d}" in html and "去年的积分" in html
