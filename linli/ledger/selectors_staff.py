"""Reads for the staff ledger pages and the ledger API: which transfers and adjustments an actor may see.

Who sees what (linli.org.access, action "ledger.view"):
- whoever may read the ledger of a whole community ("ledger.view_all": its staff, the street's admin, its auditor) sees
  every transfer and adjustment of it;
- everyone else sees the transfers and adjustments that touch the account of a person whose passbook they may read
  (grid chiefs and workers: the people of their grids; a resident: themself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from linli.common.errors import Forbidden, NotFound
from linli.ledger import selectors
from linli.ledger.models import Account, AccountKind, Adjustment, AdjustmentStatus, SystemAccount, Transfer
from linli.org import selectors as org_selectors
from linli.org.access import GRID, Actor, can, scoped
from linli.org.models import Community, Person, Role

# roles that work with the ledger pages at all (residents have their own passbook pages)
LEDGER_WORKERS = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.AUDITOR} | GRID)

TRANSFER_RELATED = (
    "debit__person",
    "debit__merchant",
    "debit__team",
    "credit__person",
    "credit__merchant",
    "credit__team",
    "actor",
    "reverses",
)


def reads_whole_community(actor: Actor, community: Community) -> bool:
    """Whoever may export a community's whole book (its staff, the street admin, its auditor) may read all of it.

    Not "ledger.view" on the community: access lets grid and building grants *view* community-wide things (names of
    places), which must not open every resident's transfers to a grid worker."""
    return can(actor, "ledger.view_all", community)


def require_ledger_worker(actor: Actor, community: Community) -> None:
    """The staff ledger pages: the community's staff and auditor, and its grid chiefs and workers (in their grids)."""
    if reads_whole_community(actor, community):
        return
    if any(g.role in GRID and g.community_id == community.pk for g in actor.grants):
        return
    raise Forbidden()


def person_account(person: Person) -> Account | None:
    """A person's account, or None before their first points (reads never create accounts)."""
    return Account.objects.filter(person=person).first()


def _readable_accounts(actor: Actor, community: Community | None) -> QuerySet[Account]:
    people = scoped(actor, "ledger.view", Person.objects.all())
    if community is not None:
        people = people.filter(community=community)
    return Account.objects.filter(person__in=people.values("pk"))


def _readable_communities(actor: Actor, community: Community | None) -> list[int]:
    candidates = [community] if community is not None else list(org_selectors.communities(actor))
    return [c.pk for c in candidates if reads_whole_community(actor, c)]


def transfers(actor: Actor, *, community: Community | None = None, q: str = "") -> QuerySet[Transfer]:
    """Every transfer `actor` may see (of one community when given), newest first; `q` searches people's names."""
    qs = Transfer.objects.select_related(*TRANSFER_RELATED)
    if community is not None:
        qs = qs.filter(community=community)
    whole = _readable_communities(actor, community)
    if community is not None and community.pk in whole:
        visible = Q()
    else:
        accounts = _readable_accounts(actor, community).values("pk")
        visible = Q(community_id__in=whole) | Q(debit_id__in=accounts) | Q(credit_id__in=accounts)
    qs = qs.filter(visible)
    q = q.strip()
    if q:
        qs = qs.filter(Q(debit__person__name__contains=q) | Q(credit__person__name__contains=q))
    return qs.order_by("-id")


def transfers_page(qs: QuerySet[Transfer], *, before: int | None, limit: int) -> tuple[list[Transfer], int | None]:
    """Keyset page of `qs` (newest first): `limit` transfers older than `before`, and the `before` of the next page."""
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].pk if more and rows else None)


def person_transfers_page(
    account: Account | None, *, before: int | None, limit: int
) -> tuple[list[Transfer], int | None]:
    """One person's transfers, newest first: two index range scans (debits, credits) merged, at any history length."""
    if account is None:
        return [], None
    lines = selectors.passbook_page(account, before_id=before, limit=min(limit + 1, 100))
    rows = [line.transfer for line in lines]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].pk if more and rows else None)


def transfer_visible(actor: Actor, pk: int) -> Transfer:
    """One transfer the actor may see, or 404."""
    t = Transfer.objects.select_related(*TRANSFER_RELATED, "community").filter(pk=pk).first()
    if t is None:
        raise NotFound()
    if reads_whole_community(actor, t.community):
        return t
    for account in (t.debit, t.credit):
        if account.person is not None and can(actor, "ledger.view", account.person):
            return t
    raise NotFound()


def reversal_of(transfer: Transfer) -> Transfer | None:
    return Transfer.objects.filter(reverses=transfer).first()


def adjustments(actor: Actor, *, community: Community, status: str | None = None) -> QuerySet[Adjustment]:
    qs = Adjustment.objects.filter(community=community).select_related(
        "account__person", "requested_by", "decided_by", "transfer"
    )
    if not reads_whole_community(actor, community):
        qs = qs.filter(account__in=_readable_accounts(actor, community).values("pk"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def pending_adjustments(actor: Actor, community: Community) -> QuerySet[Adjustment]:
    return adjustments(actor, community=community, status=AdjustmentStatus.PENDING)


def adjustment_visible(actor: Actor, pk: int) -> Adjustment:
    adj = Adjustment.objects.select_related("account__person", "community", "transfer").filter(pk=pk).first()
    if adj is None:
        raise NotFound()
    person = adj.account.person
    if reads_whole_community(actor, adj.community) or (person is not None and can(actor, "ledger.view", person)):
        return adj
    raise NotFound()


@dataclass(frozen=True)
class CommunityTotals:
    issued: int  # all points ever issued, net of what came back to issuance
    issued_this_month: int
    in_circulation: int  # held by people, merchants and teams now
    spent_this_month: int  # into the points market this month


def month_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _system(community: Community, code: str) -> Account | None:
    return Account.objects.filter(community=community, system_code=code).first()


def community_totals(community: Community) -> CommunityTotals:
    start = month_start()
    issuance = _system(community, SystemAccount.ISSUANCE)
    market = _system(community, SystemAccount.MARKET)
    held = (
        Account.objects.filter(
            community=community, kind__in=[AccountKind.PERSON, AccountKind.MERCHANT, AccountKind.TEAM]
        ).aggregate(s=Sum("balance"))["s"]
        or 0
    )
    return CommunityTotals(
        issued=-selectors.balance(issuance) if issuance else 0,
        issued_this_month=selectors.totals(issuance, start=start).spent if issuance else 0,
        in_circulation=int(held),
        spent_this_month=selectors.totals(market, start=start).earned if market else 0,
    )
