"""Export the ledger for accountants and auditors: a beancount file, a CSV file, an Excel workbook.

All three stream the transfers from the database in id order (`.iterator(chunk_size=2000)`): memory stays flat
whether a community has a thousand transfers or ten million. What is kept in memory is per *account* (the set of
accounts already opened in the beancount file), never per transfer.

Beancount accounts (points are not money: the commodity is `PTS`, declared once; integer amounts only)
-----------------------------------------------------------------------------------------------------
Every posting keeps linli's sign: a transfer's credit account gets `+amount`, its debit account `-amount`, so each
beancount balance *is* the linli balance and the file ends with a `balance` assertion per account that bean-check
proves. Beancount does not force a sign per root, but we place every account under the root whose usual sign matches
what the account holds, so reports read naturally:

    Assets:<C>:People:P<person id>      a resident's points (never negative)
    Assets:<C>:Merchants:M<merchant id> a caring merchant's points
    Assets:<C>:Teams:T<team id>         a volunteer team's points
    Assets:<C>:Vouchers                 points held against vouchers not yet used (they flow on to merchants)
    Assets:<C>:Donations                points donated into the community's pool (they can be given out again)
    Equity:<C>:Issuance                 where every point comes from: minus the points in existence (negative)
    Expenses:<C>:Market                 points spent at the points market: out of circulation (positive)
    Expenses:<C>:Expired                points that expired: out of circulation (positive)

`<C>` is the community's code with its first letter capitalised (`daxingdonglu` -> `Daxingdonglu`; `_` becomes `-`).
Liabilities and Income are not used: no account holds a negative balance except issuance, which is the community's
own equity in the points, not a debt to anyone. Only ids and codes appear in account names (beancount allows
letters, digits and dashes); names of people, merchants and teams go into the `open` directive's metadata, and memos
(any UTF-8) into the narration.

With `--month` the file starts with one opening-balance transaction per community on the first day of the month
(the balances before it, summed from the transfers) and ends with assertions on the first day of the next month.
Without it, the assertions are the balances linli keeps (`selectors.balance`), dated the day after the last
transfer: bean-check then proves that the transfers add up to exactly the balances linli shows.

A consistent snapshot: on PostgreSQL the export runs in one REPEATABLE READ, READ ONLY transaction. On SQLite (one
writer at a time, ids given in commit order) it reads transfers up to the highest id seen at the start and takes off
whatever was posted after that from the balances, so concurrent awards never make the assertions disagree.
"""

from __future__ import annotations

import contextlib
import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from linli.common.errors import Invalid, NotFound
from linli.ledger import selectors
from linli.ledger.models import Account, AccountKind, SystemAccount, Transfer, TransferKind
from linli.org.models import Community

TZ = ZoneInfo("Asia/Shanghai")
COMMODITY = "PTS"
CHUNK = 2000
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet; more transfers continue on "流水 (2)", "流水 (3)" ...
TRANSFERS_SHEET = "流水"
BALANCES_SHEET = "余额"
FORMATS = ("beancount", "csv", "xlsx")

# system account code -> (root, last component); see the module docstring for the reasons
SYSTEM_ACCOUNTS: dict[str, tuple[str, str]] = {
    SystemAccount.ISSUANCE: ("Equity", "Issuance"),
    SystemAccount.MARKET: ("Expenses", "Market"),
    SystemAccount.EXPIRY: ("Expenses", "Expired"),
    SystemAccount.VOUCHERS: ("Assets", "Vouchers"),
    SystemAccount.DONATIONS: ("Assets", "Donations"),
}
OWNER_ACCOUNTS: dict[str, tuple[str, str]] = {  # kind -> (group, id prefix)
    AccountKind.PERSON: ("People", "P"),
    AccountKind.MERCHANT: ("Merchants", "M"),
    AccountKind.TEAM: ("Teams", "T"),
}


# --- scope ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which communities and which month (None: all history) an export covers."""

    communities: tuple[Community, ...]
    start: datetime | None = None  # inclusive, Asia/Shanghai midnight
    end: datetime | None = None  # exclusive

    @property
    def community_ids(self) -> list[int]:
        return [c.pk for c in self.communities]

    @property
    def monthly(self) -> bool:
        return self.start is not None


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """ "2026-03" -> (2026-03-01 00:00, 2026-04-01 00:00), Asia/Shanghai."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (month or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise Invalid(_("The month must look like 2026-03."), code="month_invalid", field="month")
    year, mon = int(match.group(1)), int(match.group(2))
    start = datetime(year, mon, 1, tzinfo=TZ)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=TZ)
    return start, end


def resolve_scope(*, community: str | None = None, month: str | None = None) -> Scope:
    qs = Community.objects.order_by("id")
    if community:
        qs = qs.filter(code=community.strip())
        if not qs.exists():
            raise NotFound(_("No community has the code %(code)s.") % {"code": community}, code="community_unknown")
    start, end = month_bounds(month) if month else (None, None)
    return Scope(tuple(qs), start, end)


# --- names ----------------------------------------------------------------------------------------------------------


def community_component(code: str) -> str:
    """A community code as one beancount account component: starts with a capital letter or digit, then letters,
    digits and dashes only."""
    text = re.sub(r"[^A-Za-z0-9-]+", "-", code).strip("-") or "X"
    text = text[0].upper() + text[1:]
    return text if text[0].isupper() or text[0].isdigit() else "C" + text


def community_components() -> dict[int, str]:
    """Component per community id, unique across the whole installation (so a name is the same in every export):
    two codes that clean up to the same text get their id appended."""
    rows = list(Community.objects.order_by("id").values_list("id", "code"))
    seen: dict[str, int] = defaultdict(int)
    for _id, code in rows:
        seen[community_component(code)] += 1
    out = {}
    for pk, code in rows:
        name = community_component(code)
        out[pk] = name if seen[name] == 1 else f"{name}-{pk}"
    return out


@dataclass(frozen=True)
class AccountRef:
    """What an export needs to know about an account, read in the same row as the transfer."""

    id: int
    community_id: int
    kind: str
    system_code: str
    owner_id: int | None
    owner_name: str

    def bean_name(self, components: dict[int, str]) -> str:
        c = components[self.community_id]
        if self.kind == AccountKind.SYSTEM:
            root, leaf = SYSTEM_ACCOUNTS[self.system_code]
            return f"{root}:{c}:{leaf}"
        group, prefix = OWNER_ACCOUNTS[self.kind]
        return f"Assets:{c}:{group}:{prefix}{self.owner_id}"

    def label(self) -> str:
        if self.kind == AccountKind.SYSTEM:
            return str(SystemAccount(self.system_code).label)
        return self.owner_name


# columns read for each side of a transfer; `_ref` turns them back into an AccountRef
_SIDE = ("id", "community_id", "kind", "system_code", "person_id", "merchant_id", "team_id")
_OWNER = ("person__name", "merchant__name", "team__name")


def _side_fields(side: str) -> list[str]:
    return [f"{side}__{f}" for f in _SIDE + _OWNER]


def _ref(values: tuple[Any, ...]) -> AccountRef:
    pk, community_id, kind, system_code, person_id, merchant_id, team_id, pname, mname, tname = values
    owner_id = person_id or merchant_id or team_id
    return AccountRef(pk, community_id, kind, system_code, owner_id, pname or mname or tname or "")


_ACCOUNT_FIELDS = list(_SIDE) + list(_OWNER)


def _accounts(ids: list[int] | None = None, community_ids: list[int] | None = None) -> Iterator[AccountRef]:
    """Accounts in id order, streamed."""
    qs = Account.objects.order_by("id")
    if community_ids is not None:
        qs = qs.filter(community_id__in=community_ids)
    if ids is not None:
        for n in range(0, len(ids), CHUNK):
            chunk = qs.filter(id__in=ids[n : n + CHUNK]).values_list(*_ACCOUNT_FIELDS)
            yield from (_ref(v) for v in chunk)
        return
    for v in qs.values_list(*_ACCOUNT_FIELDS).iterator(chunk_size=CHUNK):
        yield _ref(v)


# --- the transfer stream --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: int
    community_id: int
    debit: AccountRef
    credit: AccountRef
    amount: int
    kind: str
    memo: str
    ref_type: str
    ref_id: int | None
    reverses_id: int | None
    created_at: datetime  # Asia/Shanghai
    row_hash: str

    @property
    def reference(self) -> str:
        return f"{self.id}-{self.row_hash[:8]}"  # the same text as Transfer.reference

    @property
    def kind_label(self) -> str:
        return str(TransferKind(self.kind).label) if self.kind in TransferKind.values else self.kind


_HEAD = ("id", "community_id", "amount", "kind", "memo", "ref_type", "ref_id", "reverses_id", "created_at", "row_hash")


def _transfers(scope: Scope, upto_id: int) -> QuerySet[Transfer]:
    qs = Transfer.objects.filter(community_id__in=scope.community_ids, id__lte=upto_id)
    if scope.start is not None and scope.end is not None:
        qs = qs.filter(created_at__gte=scope.start, created_at__lt=scope.end)
    return qs


def stream(scope: Scope, upto_id: int) -> Iterator[Row]:
    """Transfers in scope, id order, `CHUNK` rows at a time; the owners' names come in the same query."""
    fields = list(_HEAD) + _side_fields("debit") + _side_fields("credit")
    qs = _transfers(scope, upto_id).order_by("id").values_list(*fields)
    n_head, n_side = len(_HEAD), len(_SIDE) + len(_OWNER)
    for v in qs.iterator(chunk_size=CHUNK):
        pk, community_id, amount, kind, memo, ref_type, ref_id, reverses_id, created_at, row_hash = v[:n_head]
        yield Row(
            id=pk,
            community_id=community_id,
            debit=_ref(v[n_head : n_head + n_side]),
            credit=_ref(v[n_head + n_side :]),
            amount=int(amount),
            kind=kind,
            memo=memo,
            ref_type=ref_type,
            ref_id=ref_id,
            reverses_id=reverses_id,
            created_at=created_at.astimezone(TZ),
            row_hash=row_hash,
        )


@contextlib.contextmanager
def snapshot() -> Iterator[int]:
    """Yields the highest transfer id the export covers; see the module docstring."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _last_id()
        return
    yield _last_id()


def _last_id() -> int:
    return int(Transfer.objects.aggregate(m=Max("id"))["m"] or 0)


def _net(where: Q) -> dict[int, int]:
    """Per account: credits minus debits over the transfers matching `where` (two GROUP BY queries)."""
    out: dict[int, int] = defaultdict(int)
    base = Transfer.objects.filter(where).order_by()
    for acc, total in base.values("credit").annotate(s=Sum("amount")).values_list("credit", "s").iterator(CHUNK):
        out[acc] += int(total)
    for acc, total in base.values("debit").annotate(s=Sum("amount")).values_list("debit", "s").iterator(CHUNK):
        out[acc] -= int(total)
    return out


def linli_balances(scope: Scope, upto_id: int) -> Iterator[tuple[AccountRef, int]]:
    """Every account in scope with the balance linli keeps (selectors.balance), as of transfer `upto_id`."""
    with transaction.atomic():  # balances and the later movements read together (SQLite: one short write lock)
        later = _net(Q(community_id__in=scope.community_ids, id__gt=upto_id))
        stored: list[tuple[int, int]] = []
        qs = Account.objects.filter(community_id__in=scope.community_ids).order_by("id")
        for acc in qs.only("id", "constrained", "balance").iterator(chunk_size=CHUNK):
            # constrained accounts: the balance on the row (what selectors.balance returns, without a query each)
            value = acc.balance if acc.constrained else selectors.balance(acc)
            stored.append((acc.pk, int(value) - later.get(acc.pk, 0)))
    values = dict(stored)
    for ref in _accounts(community_ids=scope.community_ids):
        yield ref, values[ref.id]


def first_use(scope: Scope, upto_id: int) -> dict[int, date]:
    """Per account: the local date of its earliest transfer in scope. Accounts are opened on that day, which is not
    always the day of the first transfer in id order (history can be back-dated or imported)."""
    out: dict[int, date] = {}
    base = _transfers(scope, upto_id).order_by()
    for side in ("debit", "credit"):
        for acc, first in base.values(side).annotate(m=Min("created_at")).values_list(side, "m").iterator(CHUNK):
            day = first.astimezone(TZ).date()
            out[acc] = min(out.get(acc, day), day)
    return out


def balances_before(scope: Scope, upto_id: int, moment: datetime) -> dict[int, int]:
    """Per account in scope: the balance just before `moment`, summed from the transfers (non-zero ones only)."""
    where = Q(community_id__in=scope.community_ids, id__lte=upto_id, created_at__lt=moment)
    return {acc: value for acc, value in _net(where).items() if value}


# --- beancount ------------------------------------------------------------------------------------------------------


def bean_string(text: str) -> str:
    r"""A beancount string literal: `\` and `"` escaped, newlines and tabs as \n and \t, other control characters
    dropped. beancount reads it back to exactly `text` (tested)."""
    text = "".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 0x20)
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{text}"'


@dataclass
class Summary:
    transfers: int = 0
    accounts: int = 0
    first: date | None = None
    last: date | None = None
    communities: list[str] = field(default_factory=list)


class _Bean:
    def __init__(self, out: IO[str], components: dict[int, str], names: dict[int, str]) -> None:
        self.out = out
        self.components = components
        self.community_names = names
        self.opened: set[int] = set()

    def open_all(self, days: dict[int, date]) -> None:
        for ref in _accounts(ids=sorted(days)):
            self.open(ref, days[ref.id])

    def open(self, ref: AccountRef, day: date) -> None:
        if ref.id in self.opened:
            return
        self.opened.add(ref.id)
        w = self.out.write
        w(f"{day.isoformat()} open {ref.bean_name(self.components)} {COMMODITY}\n")
        w(f"  owner: {bean_string(ref.label())}\n")
        w(f"  community: {bean_string(self.community_names.get(ref.community_id, ''))}\n")
        w(f'  account-id: "{ref.id}"\n')

    def posting(self, ref: AccountRef, amount: int) -> None:
        self.out.write(f"  {ref.bean_name(self.components)}  {amount} {COMMODITY}\n")


HEADER = """\
; linli points ledger, exported {now}
; Points are not money: one commodity, PTS, in whole points. Each transfer is one transaction with two postings;
; the credit account gets +amount and the debit account -amount, so every balance here is the balance linli shows.
;   Assets:<C>:People:P<id> / Merchants:M<id> / Teams:T<id>  points held by residents, merchants, teams
;   Assets:<C>:Vouchers, Assets:<C>:Donations               points held for vouchers, the donations pool
;   Equity:<C>:Issuance                                      where points come from (minus the points in existence)
;   Expenses:<C>:Market, Expenses:<C>:Expired                points spent at the market, points that expired
; <C> is the community's code. Names are in each account's `owner` metadata; `ref` is the passbook reference.
; The balance assertions at the end are linli's own balances: `bean-check` proves the transfers add up to them.
"""


def write_beancount(out: IO[str], scope: Scope) -> Summary:
    """Write the scope's transfers as one beancount file to `out` (a text stream)."""
    components = community_components()
    names = {c.pk: c.name for c in scope.communities}
    bean = _Bean(out, components, names)
    summary = Summary(communities=[c.code for c in scope.communities])
    now = datetime.now(TZ).replace(microsecond=0).isoformat()
    out.write(HEADER.format(now=now))
    out.write('option "title" "linli points ledger"\n')
    out.write(f'option "operating_currency" "{COMMODITY}"\n\n')
    out.write(f"1970-01-01 commodity {COMMODITY}\n  name: {bean_string('linli points (积分)')}\n\n")
    with snapshot() as upto:
        days = first_use(scope, upto)
        if scope.start is not None and scope.end is not None:
            _opening(bean, scope, upto, scope.start, days)
        bean.open_all(days)
        for row in stream(scope, upto):
            day = row.created_at.date()
            out.write(f"{day.isoformat()} * {bean_string(row.memo or row.kind_label)}\n")
            out.write(f'  ref: "{row.reference}"\n  kind: "{row.kind}"\n  id: "{row.id}"\n')
            if row.ref_type:
                out.write(f"  ref-type: {bean_string(row.ref_type)}\n")
            if row.ref_id is not None:
                out.write(f'  ref-id: "{row.ref_id}"\n')
            if row.reverses_id is not None:
                out.write(f'  reverses: "{row.reverses_id}"\n')
            bean.posting(row.debit, -row.amount)
            bean.posting(row.credit, row.amount)
            out.write("\n")
            summary.transfers += 1
            summary.first = min(summary.first or day, day)
            summary.last = max(summary.last or day, day)
        if scope.end is not None:
            check_day = scope.end.astimezone(TZ).date()
            closing = balances_before(scope, upto, scope.end)
            assertions: Iterator[tuple[AccountRef, int]] = (
                (ref, closing.get(ref.id, 0)) for ref in _accounts(community_ids=scope.community_ids)
            )
        else:
            last = summary.last or datetime.now(TZ).date()
            check_day = last + timedelta(days=1)
            assertions = linli_balances(scope, upto)
        out.write(f"; balances as of the start of {check_day.isoformat()}\n")
        for ref, value in assertions:
            if ref.id not in bean.opened and scope.monthly and value == 0:
                continue  # an account with no history before the month's end: nothing to assert
            bean.open(ref, check_day)  # no-op when the account was used already
            out.write(f"{check_day.isoformat()} balance {ref.bean_name(components)}  {value} {COMMODITY}\n")
            summary.accounts += 1
    return summary


def _opening(bean: _Bean, scope: Scope, upto: int, start: datetime, days: dict[int, date]) -> None:
    """One transaction per community carrying the balances from before the month (they sum to zero: double entry).
    Its accounts are opened on the month's first day (`days` is updated for the ones not used in the month)."""
    before = balances_before(scope, upto, start)
    if not before:
        return
    day = start.astimezone(TZ).date()
    by_community: dict[int, list[tuple[AccountRef, int]]] = defaultdict(list)
    for ref in _accounts(ids=sorted(before)):
        days[ref.id] = day
        by_community[ref.community_id].append((ref, before[ref.id]))
    for community_id, rows in sorted(by_community.items()):
        narration = _("Opening balances") + f" {bean.community_names.get(community_id, '')}"
        bean.out.write(f'{day.isoformat()} * {bean_string(narration.strip())}\n  kind: "opening"\n')
        for ref, value in rows:
            bean.posting(ref, value)
        bean.out.write("\n")


# --- csv and xlsx ---------------------------------------------------------------------------------------------------

COLUMNS = (
    gettext_lazy("id"),
    gettext_lazy("reference"),
    gettext_lazy("date and time"),
    gettext_lazy("community"),
    gettext_lazy("kind"),
    gettext_lazy("debit account"),
    gettext_lazy("debit owner"),
    gettext_lazy("credit account"),
    gettext_lazy("credit owner"),
    gettext_lazy("amount"),
    gettext_lazy("memo"),
    gettext_lazy("caused by"),
    gettext_lazy("caused by id"),
    gettext_lazy("reverses transfer"),
    gettext_lazy("row hash"),
)
BALANCE_COLUMNS = (
    gettext_lazy("community"),
    gettext_lazy("account"),
    gettext_lazy("owner"),
    gettext_lazy("account kind"),
    gettext_lazy("balance"),
)
RISKY_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """A spreadsheet would run text that starts with = + - @ as a formula: prefix it with ' (OWASP's advice)."""
    return "'" + value if value.startswith(RISKY_START) else value


def _cells(row: Row, components: dict[int, str], codes: dict[int, str]) -> list[Any]:
    return [
        row.id,
        row.reference,
        row.created_at,
        codes.get(row.community_id, ""),
        row.kind,
        row.debit.bean_name(components),
        row.debit.label(),
        row.credit.bean_name(components),
        row.credit.label(),
        row.amount,
        row.memo,
        row.ref_type,
        row.ref_id,
        row.reverses_id,
        row.row_hash,
    ]


def write_csv(out: IO[str], scope: Scope) -> Summary:
    """One row per transfer. `out` should be opened with newline="" and encoding "utf-8-sig" (the BOM lets Excel
    read UTF-8); text that could start a formula is prefixed with '."""
    components = community_components()
    codes = {c.pk: c.code for c in scope.communities}
    summary = Summary(communities=list(codes.values()))
    writer = csv.writer(out)
    writer.writerow([str(c) for c in COLUMNS])
    with snapshot() as upto:
        for row in stream(scope, upto):
            cells = _cells(row, components, codes)
            cells[2] = row.created_at.isoformat()
            writer.writerow(["" if c is None else csv_safe(c) if isinstance(c, str) else c for c in cells])
            summary.transfers += 1
    return summary


class _Sheets:
    """Write-only sheets that roll over to "<title> (2)" when one is full."""

    def __init__(self, wb: Workbook, title: str, header: list[str], max_rows: int) -> None:
        self.wb, self.title, self.header, self.max_rows = wb, title, header, max_rows
        self.count = 0
        self.rows = 0
        self.sheet: WriteOnlyWorksheet = self._new()

    def _new(self) -> WriteOnlyWorksheet:
        self.count += 1
        title = self.title if self.count == 1 else f"{self.title} ({self.count})"
        sheet = self.wb.create_sheet(title)
        sheet.freeze_panes = "A2"
        header = []
        for name in self.header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        self.rows = 1
        return sheet

    def append(self, values: list[Any]) -> None:
        if self.rows >= self.max_rows:
            self.sheet = self._new()
        self.sheet.append([xlsx_cell(self.sheet, v) for v in values])
        self.rows += 1


def xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """Numbers stay numbers; datetimes become Excel times in Asia/Shanghai; all text is written as text, never as a
    formula, and text that starts like a formula gets Excel's quote prefix so editing the cell keeps it text."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.astimezone(TZ).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would store "=..." as a formula
    if text.startswith(RISKY_START):
        cell.alignment = Alignment(horizontal="left")
        cell.quotePrefix = True
    return cell


def write_xlsx(out: str | IO[bytes], scope: Scope, *, max_rows: int = XLSX_MAX_ROWS) -> Summary:
    """Sheet "流水": one row per transfer (as in the CSV); sheet "余额": every account and its balance.
    openpyxl's write-only mode streams rows to disk, so a million rows do not fill the memory."""
    components = community_components()
    codes = {c.pk: c.code for c in scope.communities}
    summary = Summary(communities=list(codes.values()))
    wb = Workbook(write_only=True)
    transfers = _Sheets(wb, TRANSFERS_SHEET, [str(c) for c in COLUMNS], max_rows)
    balances = _Sheets(wb, BALANCES_SHEET, [str(c) for c in BALANCE_COLUMNS], max_rows)
    with snapshot() as upto:
        for row in stream(scope, upto):
            transfers.append(_cells(row, components, codes))
            summary.transfers += 1
        if scope.end is not None:
            closing = balances_before(scope, upto, scope.end)
            pairs: Iterator[tuple[AccountRef, int]] = (
                (ref, closing.get(ref.id, 0)) for ref in _accounts(community_ids=scope.community_ids)
            )
        else:
            pairs = linli_balances(scope, upto)
        kinds = dict(AccountKind.choices)
        for ref, value in pairs:
            balances.append(
                [codes.get(ref.community_id, ""), ref.bean_name(components), ref.label(), str(kinds[ref.kind]), value]
            )
            summary.accounts += 1
    wb.save(out)
    return summary


def export(fmt: str, out: IO[Any], scope: Scope) -> Summary:
    if fmt == "beancount":
        return write_beancount(out, scope)
    if fmt == "csv":
        return write_csv(out, scope)
    if fmt == "xlsx":
        return write_xlsx(out, scope)
    raise Invalid(_("Unknown export format."), code="format_invalid", field="format")
