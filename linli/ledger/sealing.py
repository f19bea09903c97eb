"""Seals, verification and public proofs: the ledger's tamper evidence (DESIGN.md › The ledger, issue 3 part 4).

- `ledger_seal` closes one month of one community: the Merkle root (domain.merkle_root) over the row hashes of the
  transfers whose `created_at` falls in that month (settings.TIME_ZONE), in id order. The root is what the monthly
  disclosure prints on the notice board. Sealing the same month again returns the stored seal when the root computed
  now is identical (safe to retry from cron or a double click) and refuses with 409 `already_sealed` when it differs
  (the month's rows changed after sealing: run `linli ledger verify`).
- `ledger_verify` recomputes everything from the rows in one streaming pass: each row's keyed hash, each account's
  running balance and final balance, the zero sum per community, the issuance roll-ups, every seal; and it reports
  when the database guard against UPDATE/DELETE is lifted or missing. It names the first (lowest id) bad transfer.
- `transfer_proof` gives anyone holding a passbook reference ("<id>-<8 hex>") the Merkle audit path from that
  transfer's row hash to the sealed root of its month, checked server-side with domain.verify_proof.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.common.errors import Conflict, Invalid, NotFound
from linli.common.models import audit
from linli.ledger import domain, services
from linli.ledger.models import Account, AccountRollup, Seal, Transfer, TransferKind
from linli.org.access import Actor, require
from linli.org.models import Community

GRACE = timedelta(minutes=5)  # a month is sealed only this long after it ended: in-flight postings have committed
CHUNK = 5000  # rows fetched per round trip while streaming
MAX_PROBLEMS = 200  # problems kept in a report (all are counted)
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --- refusals -------------------------------------------------------------------------------------------------------


class MonthInvalid(Invalid):
    code = "month_invalid"
    default_message = gettext_lazy("Give the month as YYYY-MM, for example 2026-10.")


class MonthNotOver(Conflict):
    code = "month_not_over"
    default_message = gettext_lazy("This month has not ended yet; it can be sealed a few minutes after it ends.")


class AlreadySealed(Conflict):
    code = "already_sealed"
    default_message = gettext_lazy(
        "This month is already sealed, and its entries no longer give the same seal. Run a ledger check."
    )


class ReferenceInvalid(Invalid):
    code = "reference_invalid"
    default_message = gettext_lazy(
        "Type the reference exactly as printed in the passbook: a number, a dash and 8 letters or digits, "
        "for example 1234-0a1b2c3d."
    )


class ReferenceUnknown(NotFound):
    code = "reference_unknown"
    default_message = gettext_lazy("There is no entry with this reference. Please check the number.")


class ReferenceMismatch(Invalid):
    code = "reference_mismatch"
    default_message = gettext_lazy(
        "The 8 letters after the dash do not match this entry. Please check them for a typing mistake."
    )


class MonthNotSealed(Conflict):
    code = "month_not_sealed"
    default_message = gettext_lazy(
        "This entry's month is not sealed yet. Months are sealed after they end; please check again later."
    )


# --- months ---------------------------------------------------------------------------------------------------------


def month_window(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a "YYYY-MM" month in the server's time zone (settings.TIME_ZONE), as aware datetimes."""
    found = MONTH_RE.match(month or "")
    if not found:
        raise MonthInvalid()
    year, mon = int(found.group(1)), int(found.group(2))
    tz = timezone.get_default_timezone()
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz)
    return start, end


def month_of(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m")


def previous_month(now: datetime | None = None) -> str:
    local = timezone.localtime(now or timezone.now())
    first = local.replace(day=1)
    return month_of(first - timedelta(days=1))


# --- a Merkle root computed while streaming -------------------------------------------------------------------------


def _leaf(h: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + h).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleAccumulator:
    """The same root as domain.merkle_root, built one leaf at a time with O(log n) memory.

    Pairing level by level and carrying an odd last node up unchanged gives, for n leaves, perfect subtrees of the
    sizes of n's binary digits, left to right, joined from the right: a stack of (height, hash) does exactly that.
    """

    __slots__ = ("_stack", "count")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.count = 0

    def add(self, leaf_hex: str) -> None:
        node = _leaf(bytes.fromhex(leaf_hex))
        height = 0
        while self._stack and self._stack[-1][0] == height:
            node = _node(self._stack.pop()[1], node)
            height += 1
        self._stack.append((height, node))
        self.count += 1

    def root(self) -> str:
        if not self._stack:
            return domain.EMPTY_ROOT
        node = self._stack[-1][1]
        for _height, left in reversed(self._stack[:-1]):
            node = _node(left, node)
        return node.hex()


# --- sealing --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    seal: Seal
    replayed: bool  # True when the month was already sealed with the same root


def _month_rows(community_id: int, month: str) -> Iterable[tuple[int, str]]:
    start, end = month_window(month)
    return (
        Transfer.objects.filter(community_id=community_id, created_at__gte=start, created_at__lt=end)
        .order_by("id")
        .values_list("id", "row_hash")
        .iterator(chunk_size=CHUNK)
    )


def _refresh_rollups(community_id: int) -> None:
    """Move each unconstrained account's roll-up up to the community's last sealed transfer id (never backwards)."""
    upto = Seal.objects.filter(community_id=community_id).aggregate(m=Max("last_transfer_id"))["m"]
    if not upto:
        return
    for account in Account.objects.filter(community_id=community_id, constrained=False):
        rollup, _created = AccountRollup.objects.get_or_create(account=account)
        rollup = AccountRollup.objects.select_for_update().get(pk=rollup.pk)
        if rollup.upto_transfer_id >= upto:
            continue
        window = Transfer.objects.filter(id__gt=rollup.upto_transfer_id, id__lte=upto)
        credits = window.filter(credit=account).aggregate(s=Sum("amount"))["s"] or 0
        debits = window.filter(debit=account).aggregate(s=Sum("amount"))["s"] or 0
        rollup.balance += credits - debits
        rollup.upto_transfer_id = upto
        rollup.save(update_fields=["balance", "upto_transfer_id"])


@transaction.atomic
def ledger_seal(*, community: Community, month: str, actor: Actor | None) -> Sealed:
    """Seal `month` ("YYYY-MM") of `community`. `actor` None means the operator on the server (the CLI).

    Refuses a month that has not ended (plus GRACE). Earlier months need not be sealed first. Sealing again returns
    the stored seal (replayed=True) when the root is unchanged, else 409 already_sealed.
    """
    if actor is not None:
        require(actor, "ledger.seal", community)
    _start, end = month_window(month)
    if timezone.now() < end + GRACE:
        raise MonthNotOver()
    acc = MerkleAccumulator()
    first_id = last_id = None
    for tid, row_hash in _month_rows(community.pk, month):
        acc.add(row_hash)
        first_id = tid if first_id is None else first_id
        last_id = tid
    root = acc.root()

    def same(seal: Seal) -> Sealed:
        if seal.merkle_root != root or seal.transfer_count != acc.count:
            raise AlreadySealed(details={"month": month, "sealed_root": seal.merkle_root, "root_now": root})
        return Sealed(seal, replayed=True)

    existing = Seal.objects.filter(community=community, month=month).first()
    if existing is not None:
        return same(existing)
    try:
        with transaction.atomic():
            seal = Seal.objects.create(
                community=community,
                month=month,
                first_transfer_id=first_id,
                last_transfer_id=last_id,
                transfer_count=acc.count,
                merkle_root=root,
                sealed_by=getattr(actor, "user", None),
            )
    except IntegrityError:  # sealed meanwhile by a concurrent request
        return same(Seal.objects.get(community=community, month=month))
    _refresh_rollups(community.pk)
    audit(
        actor=actor,
        action="ledger.seal",
        obj=seal,
        community_id=community.pk,
        month=month,
        root=root,
        count=acc.count,
        first=first_id,
        last=last_id,
    )
    return Sealed(seal, replayed=False)


# --- verification ---------------------------------------------------------------------------------------------------


class _Row(NamedTuple):
    """A transfer as values_list gives it, with the attribute names services.hash_fields reads (no model instance)."""

    id: int
    community_id: int
    debit_id: int
    credit_id: int
    amount: int
    kind: str
    memo: str
    ref_type: str
    ref_id: int | None
    reverses_id: int | None
    actor_id: int | None
    idempotency_key: str
    request_hash: str
    created_at: datetime
    debit_balance_after: int | None
    credit_balance_after: int | None
    row_hash: str


_FIELDS = _Row._fields

GUARD_TRIGGERS = {
    "sqlite": ("ledger_transfer_no_update", "ledger_transfer_no_delete"),
    "postgresql": ("ledger_transfer_no_change", "ledger_transfer_no_truncate"),
}
# what refuses a transfer whose accounts are of another community (migration 0006): a trigger, or two foreign keys
COMMUNITY_GUARD = {
    "sqlite": ("ledger_transfer_same_community",),
    "postgresql": ("transfer_debit_in_community", "transfer_credit_in_community"),
}


@dataclass(frozen=True)
class Problem:
    code: str  # row_hash, running_balance, bad_row, foreign_account, account_balance, not_zero, rollup, seal, guard
    message: str
    transfer_id: int | None = None
    account_id: int | None = None
    community_id: int | None = None
    month: str = ""

    def __str__(self) -> str:
        where = f"#{self.transfer_id}: " if self.transfer_id is not None else ""
        return f"{where}{self.message}"


@dataclass
class VerifyReport:
    communities: int = 0
    transfers: int = 0
    accounts: int = 0
    seals: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first MAX_PROBLEMS, transfers in id order first
    problem_count: int = 0
    guard_lifted: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_bad_transfer(self) -> int | None:
        ids = [p.transfer_id for p in self.problems if p.transfer_id is not None]
        return min(ids) if ids else None

    def problems_of(self, transfer_id: int) -> list[Problem]:
        return [p for p in self.problems if p.transfer_id == transfer_id]

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


@dataclass
class _SealCheck:
    seal: Seal
    start: datetime
    end: datetime
    acc: MerkleAccumulator = field(default_factory=MerkleAccumulator)
    first_id: int | None = None
    last_id: int | None = None


def _guard_problems(report: VerifyReport) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason, since FROM ledger_maintenance")
        rows = cursor.fetchall()
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'ledger_transfer'::regclass AND tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_transfer'")
        present = {r[0] for r in cursor.fetchall()}
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'ledger_transfer'::regclass AND contype = 'f' "
                "AND convalidated"
            )
            present |= {r[0] for r in cursor.fetchall()}
    for reason, since in rows:
        report.guard_lifted = True
        report.add(
            Problem(
                "guard",
                _("The append-only guard is lifted (ledger_maintenance has a row since %(since)s: %(reason)s).")
                % {"since": since, "reason": reason},
            )
        )
    missing = [t for t in GUARD_TRIGGERS.get(connection.vendor, ()) if t not in present]
    if missing:
        report.guard_lifted = True
        report.add(
            Problem("guard", _("The append-only trigger is missing: %(names)s.") % {"names": ", ".join(missing)})
        )
    missing = [t for t in COMMUNITY_GUARD.get(connection.vendor, ()) if t not in present]
    if missing:
        report.add(
            Problem(
                "guard",
                _("The database no longer refuses a transfer between two communities (%(names)s missing).")
                % {"names": ", ".join(missing)},
            )
        )


def ledger_verify(*, community: Community | None = None) -> VerifyReport:
    """Recompute every hash, balance and seal of one community (or all) from the rows, in one pass in id order.

    Read-only; needs no actor (the operator's command and the tests call it). Memory stays flat in the number of
    transfers: one dict entry per account, one small Merkle stack per sealed month.
    """
    began = time.perf_counter()
    report = VerifyReport()
    key = services.hmac_key()
    _guard_problems(report)

    accounts_qs = Account.objects.all()
    seals_qs = Seal.objects.all()
    transfers_qs = Transfer.objects.all()
    communities_qs = Community.objects.all()
    if community is not None:
        accounts_qs = accounts_qs.filter(community=community)
        seals_qs = seals_qs.filter(community=community)
        transfers_qs = transfers_qs.filter(community=community)
        communities_qs = communities_qs.filter(pk=community.pk)
    report.communities = communities_qs.count()

    # account id -> (community id, constrained, stored balance)
    accounts: dict[int, tuple[int, bool, int]] = {
        pk: (cid, constrained, balance)
        for pk, cid, constrained, balance in accounts_qs.values_list(
            "id", "community_id", "constrained", "balance"
        ).iterator(chunk_size=CHUNK)
    }
    report.accounts = len(accounts)
    sums: dict[int, int] = dict.fromkeys(accounts, 0)  # credits - debits, straight from the rows
    running: dict[int, int] = dict.fromkeys(accounts, 0)  # the chain of *_balance_after, re-synced after a break

    # sealed months per community, sorted by start, for a bisect per row
    seal_index: dict[int, tuple[list[datetime], list[_SealCheck]]] = {}
    for seal in seals_qs.order_by("community_id", "month"):
        start, end = month_window(seal.month)
        starts, checks = seal_index.setdefault(seal.community_id, ([], []))
        starts.append(start)
        checks.append(_SealCheck(seal, start, end))
        report.seals += 1

    # roll-ups to check when the stream passes their upto id: (upto, account id, balance)
    rollups = sorted(
        (r.upto_transfer_id, r.account_id, r.balance)
        for r in AccountRollup.objects.filter(account_id__in=[a for a, v in accounts.items() if not v[1]])
    )
    pending = 0

    def check_rollups(before_id: int | None) -> None:
        nonlocal pending
        while pending < len(rollups) and (before_id is None or rollups[pending][0] < before_id):
            upto, account_id, stored = rollups[pending]
            if sums.get(account_id) != stored:
                report.add(
                    Problem(
                        "rollup",
                        _(
                            "Account #%(account)s: its roll-up up to #%(upto)s says %(stored)s, "
                            "the transfers say %(sum)s."
                        )
                        % {"account": account_id, "upto": upto, "stored": stored, "sum": sums.get(account_id)},
                        account_id=account_id,
                        community_id=accounts[account_id][0],
                    )
                )
            pending += 1

    def bad(row: _Row, code: str, message: str, account_id: int | None = None) -> None:
        report.add(Problem(code, message, transfer_id=row.id, account_id=account_id, community_id=row.community_id))

    def leg(row: _Row, account_id: int, delta: int, stated: int | None, is_debit: bool) -> None:
        info = accounts.get(account_id)
        if info is None or info[0] != row.community_id:
            side = _("debit") if is_debit else _("credit")
            bad(row, "foreign_account", _("its %(side)s account is not in its community.") % {"side": side})
            return
        sums[account_id] += delta
        running[account_id] += delta
        if not info[1]:
            if stated is not None:
                bad(row, "running_balance", _("it states a balance for an account that keeps none."), account_id)
            return
        if stated != running[account_id]:
            side = _("debit") if is_debit else _("credit")
            bad(
                row,
                "running_balance",
                _(
                    "the %(side)s account #%(account)s should hold %(expected)s after it, the row says %(stated)s "
                    "(this row or an earlier one of that account was changed, or one is missing)."
                )
                % {"side": side, "account": account_id, "expected": running[account_id], "stated": stated},
                account_id,
            )
            if stated is not None:
                running[account_id] = stated  # report each break once, not every later row
        elif stated is not None and stated < 0:
            bad(row, "running_balance", _("it leaves account #%(account)s below zero.") % {"account": account_id})

    kinds = frozenset(TransferKind.values)
    rows = transfers_qs.order_by("id").values_list(*_FIELDS).iterator(chunk_size=CHUNK)
    count = 0
    for values in rows:
        row = _Row._make(values)
        count += 1
        if pending < len(rollups):
            check_rollups(row.id)
        expected = domain.row_hash(key, services.hash_fields(cast(Transfer, row)))
        if expected != row.row_hash:
            bad(row, "row_hash", _("its content no longer matches its hash (it was changed after it was written)."))
        if row.amount <= 0 or row.debit_id == row.credit_id or row.kind not in kinds:
            bad(row, "bad_row", _("it breaks the ledger's rules (amount, accounts or kind)."))
        leg(row, row.debit_id, -row.amount, row.debit_balance_after, True)
        leg(row, row.credit_id, row.amount, row.credit_balance_after, False)
        sealed = seal_index.get(row.community_id)
        if sealed is not None:
            i = bisect.bisect_right(sealed[0], row.created_at) - 1
            if i >= 0 and row.created_at < sealed[1][i].end:
                check = sealed[1][i]
                check.acc.add(row.row_hash)
                check.first_id = row.id if check.first_id is None else check.first_id
                check.last_id = row.id
    report.transfers = count
    check_rollups(None)

    # balances: each constrained account against its rows; per community the sum of all balances is zero
    totals: dict[int, int] = {}
    for account_id, (cid, constrained, stored) in accounts.items():
        if constrained and stored != sums[account_id]:
            report.add(
                Problem(
                    "account_balance",
                    _("Account #%(account)s holds %(stored)s, but its transfers add up to %(sum)s.")
                    % {"account": account_id, "stored": stored, "sum": sums[account_id]},
                    account_id=account_id,
                    community_id=cid,
                )
            )
        totals[cid] = totals.get(cid, 0) + (stored if constrained else sums[account_id])
    for cid, total in sorted(totals.items()):
        if total != 0:
            report.add(
                Problem(
                    "not_zero",
                    _("Community #%(community)s: all balances add up to %(total)s instead of 0.")
                    % {"community": cid, "total": total},
                    community_id=cid,
                )
            )

    for _starts, checks in seal_index.values():
        for check in checks:
            seal = check.seal
            now = (check.acc.count, check.first_id, check.last_id, check.acc.root())
            then = (seal.transfer_count, seal.first_transfer_id, seal.last_transfer_id, seal.merkle_root)
            if now != then:
                report.add(
                    Problem(
                        "seal",
                        _(
                            "The seal of %(month)s (community #%(community)s) no longer holds: sealed %(then_n)s "
                            "transfers #%(then_first)s–#%(then_last)s with root %(then_root)s, now %(now_n)s "
                            "transfers #%(now_first)s–#%(now_last)s with root %(now_root)s."
                        )
                        % {
                            "month": seal.month,
                            "community": seal.community_id,
                            "then_n": then[0],
                            "then_first": then[1],
                            "then_last": then[2],
                            "then_root": then[3][:16],
                            "now_n": now[0],
                            "now_first": now[1],
                            "now_last": now[2],
                            "now_root": now[3][:16],
                        },
                        community_id=seal.community_id,
                        month=seal.month,
                    )
                )

    report.problems.sort(key=lambda p: (p.transfer_id is None, p.transfer_id or 0))
    report.seconds = time.perf_counter() - began
    return report


# --- public proofs --------------------------------------------------------------------------------------------------

REFERENCE_RE = re.compile(r"^#?\s*(\d{1,18})\s*[-‐‑‒–—―−_\s]\s*([0-9a-f]{8})$")
DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−－"), "-")


def parse_reference(text: str) -> tuple[int, str]:
    """Split a passbook reference: 1234-0a1b2c3d → (1234, "0a1b2c3d"). Full-width characters, any dash, spaces and
    capitals are accepted, as elders type them."""
    cleaned = unicodedata.normalize("NFKC", text or "").translate(DASHES).strip().lower()
    if len(cleaned) > 40:
        raise ReferenceInvalid()
    found = REFERENCE_RE.match(cleaned)
    if not found:
        raise ReferenceInvalid()
    return int(found.group(1)), found.group(2)


@dataclass(frozen=True)
class Proof:
    """What the public page shows and `?format=json` returns: no names, no account owners."""

    reference: str
    community: str
    month: str
    date: str  # the transfer's local date, YYYY-MM-DD
    kind: str
    kind_label: str
    amount: int
    leaf: str  # the transfer's row hash
    index: int  # its position in the month, 0-based, in id order
    count: int  # transfers in the sealed month
    path: list[domain.ProofStep]
    root: str  # the sealed root
    sealed_at: datetime
    verified: bool  # the root recomputed from leaf and path equals the sealed root

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "community": self.community,
            "month": self.month,
            "date": self.date,
            "kind": self.kind,
            "amount": self.amount,
            "leaf": self.leaf,
            "index": self.index,
            "count": self.count,
            "path": [{"side": s.side, "hash": s.hash} for s in self.path],
            "root": self.root,
            "sealed_at": self.sealed_at.isoformat(),
            "verified": self.verified,
            "algorithm": {
                "hash": "SHA-256",
                "leaf": "SHA-256(0x00 || bytes.fromhex(leaf))",
                "node": "SHA-256(0x01 || left || right)",
                "path": "from the leaf up; side L: the sibling is on the left, R: on the right",
            },
        }


def transfer_proof(reference: str) -> Proof:
    """The audit path from a transfer (by its passbook reference) to the sealed root of its month. Public: needs no
    actor and reveals no names. Raises ReferenceInvalid / ReferenceUnknown / ReferenceMismatch / MonthNotSealed."""
    transfer_id, prefix = parse_reference(reference)
    t = Transfer.objects.select_related("community").filter(pk=transfer_id).first()
    if t is None:
        raise ReferenceUnknown()
    if not t.row_hash.startswith(prefix):
        raise ReferenceMismatch()
    month = month_of(t.created_at)
    seal = Seal.objects.filter(community_id=t.community_id, month=month).first()
    if seal is None:
        raise MonthNotSealed(
            _(
                "This entry is in the book of %(month)s, which is not sealed yet. Months are sealed after they end; "
                "please check again later."
            )
            % {"month": month},
            details={"month": month},
        )
    ids: list[int] = []
    leaves: list[str] = []
    for tid, row_hash in _month_rows(t.community_id, month):
        ids.append(tid)
        leaves.append(row_hash)
    index = bisect.bisect_left(ids, t.pk)
    if index >= len(ids) or ids[index] != t.pk:  # cannot happen while created_at is intact
        raise ReferenceUnknown()
    path = domain.merkle_proof(leaves, index)
    return Proof(
        reference=t.reference,
        community=t.community.name,
        month=month,
        date=timezone.localtime(t.created_at).strftime("%Y-%m-%d"),
        kind=t.kind,
        kind_label=str(t.get_kind_display()),
        amount=t.amount,
        leaf=t.row_hash,
        index=index,
        count=len(leaves),
        path=path,
        root=seal.merkle_root,
        sealed_at=seal.sealed_at,
        verified=domain.verify_proof(t.row_hash, path, seal.merkle_root),
    )
