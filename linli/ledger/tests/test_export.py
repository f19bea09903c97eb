"""`linli ledger export`: the beancount file passes bean-check and its balances are linli's; CSV and Excel rows,
totals and the formula-injection guard. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from beancount import loader
from beancount.core.data import Balance, Open, Transaction
from django.core.management import call_command
from django.db.models import Sum
from openpyxl import load_workbook

from linli.ledger import export, selectors, services
from linli.ledger.models import Account, SystemAccount, Transfer, TransferKind

TZ = export.TZ
BEAN_CHECK = Path(sys.executable).parent / "bean-check"
MEMO_QUOTES = '王秀英说："清扫楼道\\后院"，另有 \\"引号\\"'
MEMO_FORMULA = '=HYPERLINK("http://x","点我")'


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def history(world: SimpleNamespace) -> SimpleNamespace:
    """Awards, redemptions, a reversal, an adjustment, a gift, a batch, a merchant; memos with quotes and
    backslashes; two communities; spread over January to March 2026."""
    w = world
    iss_a = services.system_account(w.A, SystemAccount.ISSUANCE)
    market_a = services.system_account(w.A, SystemAccount.MARKET)
    p1, p2, elder = (services.account_for_person(p) for p in (w.pA1, w.pA2, w.pA1b))
    shop = services.account_for_merchant(w.mA)
    team = services.account_for_team(w.teamA)

    def post(debit: Account, credit: Account, amount: int, kind: str, key: str, memo: str, when: datetime, **kw: Any):
        actor = kw.pop("actor", w.staff_a)
        return services.transfer_post(
            debit=debit,
            credit=credit,
            amount=amount,
            kind=kind,
            actor=actor,
            idempotency_key=key,
            memo=memo,
            at=when,
            **kw,
        )

    services.award(person=w.pA1, amount=30, actor=w.staff_a, idempotency_key="e1", memo="环境清扫 10 小时")
    # (award() stamps now; the rest are back-dated)
    post(iss_a, p2, 8, "award", "e2", "成功调解邻里纠纷一起", at(1, 5))
    post(iss_a, p1, 5, "award", "e3", MEMO_QUOTES, at(1, 20))
    legs = [services.Leg(iss_a, acc, 2, TransferKind.AWARD, "1月院落大扫除") for acc in (p1, p2, elder)]
    services.transfer_post_batch(community=w.A, legs=legs, actor=w.staff_a, idempotency_key="batch-1", at=at(1, 31, 9))
    rice = post(p1, market_a, 15, "redemption", "e4", "兑换 大米 1 袋", at(2, 3))
    post(p2, market_a, 3, "redemption", "e5", MEMO_FORMULA, at(2, 10))
    services.transfer_reverse(
        transfer=rice.transfer, actor=w.staff_a, idempotency_key="e6", memo="大米缺货，退回积分", at=at(2, 11)
    )
    post(iss_a, p2, 2, "adjustment", "e7", "补录：1月清扫漏记", at(2, 28, 23), ref_type="adjustment")
    post(p1, elder, 4, "gift", "e8", "送给王老伯", at(3, 1, 0), actor=w.resident_a1)
    post(iss_a, shop, 10, "award", "e9", "为老人义务理发", at(3, 2))
    post(iss_a, team, 6, "award", "e10", "+团队奖励", at(3, 3))
    services.award(person=w.pB1, amount=7, actor=w.staff_b, idempotency_key="b1", memo="@府西 修家电")
    return w


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, check=False)


def run_export(*args: str) -> None:
    call_command("ledger", "export", *args, stderr=StringIO())


def bean_balances(path: Path) -> dict[str, int]:
    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    totals: dict[str, int] = {}
    for entry in entries:
        if isinstance(entry, Transaction):
            for posting in entry.postings:
                assert posting.units is not None and posting.units.currency == "PTS"
                totals[posting.account] = totals.get(posting.account, 0) + int(posting.units.number or 0)
    return totals


def names() -> dict[int, str]:
    components = export.community_components()
    return {ref.id: ref.bean_name(components) for ref in export._accounts()}


def test_beancount_passes_bean_check_and_matches_linli(history: Any, tmp_path: Path) -> None:
    path = tmp_path / "ledger.beancount"
    run_export("--format", "beancount", "--output", str(path))
    checked = bean_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    totals = bean_balances(path)
    by_id = names()
    accounts = list(Account.objects.all())
    assert len(accounts) == len(by_id) >= 9
    for account in accounts:
        assert totals.get(by_id[account.pk], 0) == selectors.balance(account), by_id[account.pk]
    entries, _errors, _options = loader.load_file(str(path))
    txns = [e for e in entries if isinstance(e, Transaction)]
    assert len(txns) == Transfer.objects.count()
    assert sum(isinstance(e, Balance) for e in entries) == len(accounts)
    opens = [e for e in entries if isinstance(e, Open)]
    assert len(opens) == len({o.account for o in opens}) == len(accounts)  # each account opened once
    # Chinese names live in metadata, never in account names
    owners = {o.meta["owner"] for o in opens}
    assert {"王秀英", "王老伯", "老街理发店", "帮帮团"} <= owners
    assert all(o.account.isascii() for o in opens)
    # memos survive quoting exactly; metadata carries the reference
    by_key = {t.idempotency_key: t for t in Transfer.objects.all()}
    quoted = next(t for t in txns if t.meta["id"] == str(by_key["e3"].pk))
    assert quoted.narration == MEMO_QUOTES and quoted.meta["ref"] == by_key["e3"].reference
    assert quoted.meta["kind"] == "award" and str(quoted.date) == "2026-01-20"
    late = next(t for t in txns if t.meta["id"] == str(by_key["e7"].pk))
    assert str(late.date) == "2026-02-28" and late.meta["ref-type"] == "adjustment"  # 23:00 in Shanghai
    reversal = by_key["e6"]
    rev = next(t for t in txns if t.meta["id"] == str(reversal.pk))
    assert rev.meta["reverses"] == str(reversal.reverses_id)
    assert next(t for t in txns if t.meta["id"] == str(by_key["e4"].pk)).narration == "兑换 大米 1 袋"


def test_a_wrong_balance_fails_bean_check(history: Any, tmp_path: Path) -> None:
    """The proof can fail: one assertion off by one point and bean-check (and the loader) refuse the file."""
    path = tmp_path / "ledger.beancount"
    run_export("--format", "beancount", "--output", str(path))
    p1 = names()[services.account_for_person(history.pA1).pk]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if " balance " in line and f" {p1} " in line)
    amount = int(lines[index].split()[-2])
    lines[index] = lines[index].replace(f" {amount} PTS", f" {amount + 1} PTS")
    path.write_text("".join(lines), encoding="utf-8")
    checked = bean_check(path)
    assert checked.returncode != 0
    assert "Balance failed" in checked.stdout + checked.stderr
    _entries, errors, _options = loader.load_file(str(path))
    assert len(errors) == 1


def test_month_and_community_exports(history: Any, tmp_path: Path) -> None:
    path = tmp_path / "feb.beancount"
    run_export("--format", "beancount", "--community", "dxdl", "--month", "2026-02", "--output", str(path))
    checked = bean_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    entries, _errors, _options = loader.load_file(str(path))
    txns = [e for e in entries if isinstance(e, Transaction)]
    opening = [t for t in txns if t.meta.get("kind") == "opening"]
    assert len(opening) == 1 and str(opening[0].date) == "2026-02-01"
    start, end = export.month_bounds("2026-02")
    in_month = Transfer.objects.filter(community=history.A, created_at__gte=start, created_at__lt=end)
    assert len(txns) - 1 == in_month.count() == 4
    assert {b.date.isoformat() for b in entries if isinstance(b, Balance)} == {"2026-03-01"}
    # the other community is not in it
    assert all(":Fuxi:" not in o.account for o in entries if isinstance(o, Open))


def test_csv_rows_totals_and_formula_guard(history: Any, tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    run_export("--format", "csv", "--output", str(path))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header, body = rows[0], rows[1:]
    assert len(header) == len(export.COLUMNS) == 15
    assert len(body) == Transfer.objects.count()
    assert [int(r[0]) for r in body] == sorted(Transfer.objects.values_list("id", flat=True))
    assert sum(int(r[9]) for r in body) == Transfer.objects.aggregate(s=Sum("amount"))["s"]
    memos = {r[10] for r in body}
    assert "'" + MEMO_FORMULA in memos and "'+团队奖励" in memos and "'@府西 修家电" in memos
    assert MEMO_QUOTES in memos
    gift = next(r for r in body if r[4] == "gift")
    assert (gift[6], gift[8]) == ("王秀英", "王老伯")  # staff export: names in full
    assert gift[2] == "2026-03-01T00:00:00+08:00"
    feb = tmp_path / "feb.csv"
    run_export("--format", "csv", "--month", "2026-02", "--community", "dxdl", "--output", str(feb))
    assert len(feb.read_text(encoding="utf-8-sig").splitlines()) == 1 + 4


def test_xlsx_sheets_balances_and_formula_guard(history: Any, tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    run_export("--format", "xlsx", "--output", str(path))
    wb = load_workbook(path)
    assert wb.sheetnames == ["流水", "余额"]
    flows, balances = wb["流水"], wb["余额"]
    rows = list(flows.iter_rows(min_row=2))
    assert len(rows) == Transfer.objects.count()
    assert sum(int(str(r[9].value)) for r in rows) == Transfer.objects.aggregate(s=Sum("amount"))["s"]
    formula = next(r[10] for r in rows if r[10].value == MEMO_FORMULA)
    assert formula.data_type == "s" and formula.quotePrefix  # text, not a formula
    assert all(r[10].data_type != "f" for r in rows)
    assert isinstance(rows[0][2].value, datetime)
    by_id = names()
    expected = {by_id[a.pk]: selectors.balance(a) for a in Account.objects.all()}
    got = {str(r[1].value): int(str(r[4].value)) for r in balances.iter_rows(min_row=2)}
    assert got == expected
    assert sum(got.values()) == 0  # double entry


def test_xlsx_rolls_over_to_a_second_sheet(history: Any, tmp_path: Path) -> None:
    path = tmp_path / "small.xlsx"
    scope = export.resolve_scope()
    with path.open("wb") as out:
        summary = export.write_xlsx(out, scope, max_rows=6)
    wb = load_workbook(path)
    flows = [ws for ws in wb.worksheets if ws.title.startswith("流水")]
    assert [ws.title for ws in flows][:2] == ["流水", "流水 (2)"]
    assert sum(ws.max_row - 1 for ws in flows) == summary.transfers == Transfer.objects.count()


def test_bean_string_round_trip() -> None:
    text = 'a"b\\c\nd\te\\"'
    assert export.bean_string(text) == '"a\\"b\\\\c\\nd\\te\\\\\\""'


def test_account_names_are_valid_components() -> None:
    assert export.community_component("daxingdonglu") == "Daxingdonglu"
    assert export.community_component("fu_xi-2") == "Fu-xi-2"
    assert export.community_component("9yard") == "9yard"
    assert export.community_component("-x") == "X"


def test_bad_input_exits_2(history: Any, tmp_path: Path) -> None:
    err = StringIO()
    for args in (
        ["--format", "csv", "--community", "nowhere"],
        ["--format", "csv", "--month", "2026-13"],
        ["--format", "xlsx"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            call_command("ledger", "export", *args, stderr=err)
        assert exit_info.value.code == 2
    assert not list(tmp_path.iterdir())


def test_stdout_export(history: Any) -> None:
    out = StringIO()
    call_command("ledger", "export", "--format", "beancount", "--community", "fuxi", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "commodity PTS" in text and "Assets:Fuxi:People:P" in text and "Daxing" not in text


def test_export_outside_a_transaction(transactional_db: None, tmp_path: Path) -> None:
    """The command as operators run it (no surrounding transaction: PostgreSQL takes a REPEATABLE READ snapshot)."""
    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA1, amount=12, actor=w.staff_a, idempotency_key="x1", memo="授课")
    services.award(person=w.pA2, amount=5, actor=w.staff_a, idempotency_key="x2", memo="授课")
    path = tmp_path / "all.beancount"
    run_export("--format", "beancount", "--output", str(path))
    assert bean_check(path).returncode == 0
    totals = bean_balances(path)
    assert totals[names()[services.account_for_person(w.pA1).pk]] == 12
