"""Every change to the ledger. Other apps post points only through these functions.

`transfer_post` moves points between two accounts of one community; `transfer_post_batch` posts many legs atomically
(one activity's 300 awards); `transfer_reverse` undoes a transfer with a new one that points at it. Each call is
idempotent by key: a retry with the same key and the same content returns the first result and posts nothing; the same
key with different content is a 409.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Forbidden, Invalid
from linli.ledger import domain, pgwire
from linli.ledger.errors import (
    AlreadyReversed,
    CrossCommunity,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidAmount,
)
from linli.ledger.models import Account, AccountKind, SystemAccount, Transfer, TransferKind
from linli.org.models import Community, Merchant, Person, Team, User

MAX_AMOUNT = 10_000_000  # no single posting is ever this large; stops typos and overflow games
MAX_KEY = 120


def hmac_key() -> bytes:
    """The ledger's hashing key: LINLI_LEDGER_KEY if set, else derived from SECRET_KEY (then never change it)."""
    explicit = getattr(settings, "LINLI_LEDGER_KEY", "")
    return _derived_key(explicit or settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)  # read per posting; the settings may change under tests, so keyed by the secret
def _derived_key(base: str) -> bytes:
    return hmac.new(base.encode(), b"linli-ledger-v1", hashlib.sha256).digest()


# --- accounts -------------------------------------------------------------------------------------------------------


def _account(community_id: int, *, lock: bool = False, **owner: Any) -> Account:
    """The owner's account, created on first use. lock=True: its row is held until the caller's transaction ends and
    the returned balance is the current one (see `account_lock`) — one statement instead of a look-up then a lock."""
    accounts = Account.objects.select_for_update() if lock else Account.objects
    found = accounts.filter(**owner).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():  # a row this transaction inserts is its own until the commit: locked as well
            return Account.objects.create(community_id=community_id, **owner)
    except IntegrityError:  # created meanwhile by a concurrent request
        return accounts.get(**owner)


def account_for_person(person: Person, *, lock: bool = False) -> Account:
    return _account(person.community_id, lock=lock, kind=AccountKind.PERSON, person=person)


def account_for_merchant(merchant: Merchant, *, lock: bool = False) -> Account:
    return _account(merchant.community_id, lock=lock, kind=AccountKind.MERCHANT, merchant=merchant)


def account_for_team(team: Team) -> Account:
    return _account(team.community_id, kind=AccountKind.TEAM, team=team)


def system_account(community: Community | int, code: str) -> Account:
    community_id = community if isinstance(community, int) else community.pk
    if code not in SystemAccount.values:
        raise Invalid(_("Unknown system account."), code="account_unknown")
    found = Account.objects.filter(community_id=community_id, system_code=code).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(
                community_id=community_id,
                kind=AccountKind.SYSTEM,
                system_code=code,
                constrained=code != SystemAccount.ISSUANCE,
            )
    except IntegrityError:
        return Account.objects.get(community_id=community_id, system_code=code)


def account_lock(account: Account) -> int:
    """Hold `account`'s row until the caller's transaction ends and return its balance: callers that check
    something about an account's past before spending from it (the market's per-person limits) queue here, so two
    concurrent requests of one payer cannot both pass the check. Call inside a transaction."""
    return int(Account.objects.select_for_update().filter(pk=account.pk).values_list("balance", flat=True).get())


# --- posting --------------------------------------------------------------------------------------------------------


_KINDS = frozenset(TransferKind.values)


@dataclass(frozen=True)
class Leg:
    debit: Account
    credit: Account
    amount: int
    kind: str
    memo: str = ""
    ref_type: str = ""
    ref_id: int | None = None
    reverses: Transfer | None = None


@dataclass(frozen=True)
class Posted:
    transfer: Transfer
    replayed: bool  # True when an earlier identical request had already posted it


def _check_leg(community_id: int, leg: Leg, actor: Any) -> None:
    if not isinstance(leg.amount, int) or isinstance(leg.amount, bool) or not 0 < leg.amount <= MAX_AMOUNT:
        raise InvalidAmount()
    if leg.kind not in _KINDS:
        raise Invalid(_("Unknown transfer kind."), code="kind_invalid")
    if leg.debit.pk == leg.credit.pk:
        raise Invalid(_("A transfer needs two different accounts."), code="same_account")
    if leg.debit.community_id != community_id or leg.credit.community_id != community_id:
        raise CrossCommunity()
    if len(leg.memo) > 200:
        raise Invalid(_("The note is too long (200 characters at most)."), code="memo_too_long", field="memo")


def _user_of(actor: Any) -> User | None:
    """Services accept a User or a page/API Actor (which carries its user); the ledger records the user."""
    user = getattr(actor, "user", actor)
    return user if isinstance(user, User) else None


def _check_self_credit(legs: Sequence[Leg], actor: Any) -> None:
    """Nobody awards (or adjusts) points to themselves: one query for all the legs of a post, not one per leg."""
    people = {
        leg.credit.person_id
        for leg in legs
        if leg.kind in {TransferKind.AWARD, TransferKind.ADJUSTMENT} and leg.credit.person_id is not None
    }
    _check_not_self(people, actor)


def _check_not_self(people: set[int], actor: Any) -> None:
    if not people:
        return
    own_person = getattr(actor, "person_id", None)  # an Actor knows its person already
    if own_person is not None and not isinstance(actor, User):
        if own_person in people:
            raise Forbidden(_("Nobody awards points to themselves."), code="self_award")
        return
    actor = _user_of(actor)
    user_id = getattr(actor, "pk", None)
    if user_id is None:
        return
    if isinstance(actor, User):
        # a user is at most one person (Person.user is one-to-one); Django caches the answer, found or not, on the
        # actor object, so a request posting many times asks once
        try:
            own = actor.person.pk
        except ObjectDoesNotExist:
            return
        if own in people:
            raise Forbidden(_("Nobody awards points to themselves."), code="self_award")
        return
    if Person.objects.filter(pk__in=people, user_id=user_id).exists():
        raise Forbidden(_("Nobody awards points to themselves."), code="self_award")


def _fingerprint(community_id: int, leg: Leg) -> str:
    return domain.request_fingerprint_v2(
        community_id,
        leg.debit.id,
        leg.credit.id,
        leg.amount,
        leg.kind,
        leg.memo,
        leg.ref_type,
        leg.ref_id,
        leg.reverses.id if leg.reverses is not None else None,
    )


def _fingerprint_v1(community_id: int, leg: Leg) -> str:
    """The fingerprint rows carried before version 2: a replay of such a request is still recognised."""
    return domain.request_fingerprint(
        {
            "community": community_id,
            "debit": leg.debit.pk,
            "credit": leg.credit.pk,
            "amount": leg.amount,
            "kind": leg.kind,
            "memo": leg.memo,
            "ref_type": leg.ref_type,
            "ref_id": leg.ref_id,
            "reverses": leg.reverses.pk if leg.reverses else None,
        }
    )


def _same_request(stored: str, fingerprint: str, community_id: int, leg: Leg) -> bool:
    if stored.startswith(domain.FINGERPRINT_V2):
        return stored == fingerprint
    return stored == _fingerprint_v1(community_id, leg)


def hash_fields(t: Transfer) -> dict[str, Any]:
    """The content a transfer's row hash covers (everything but its id and the hash itself)."""
    return {
        "community": t.community_id,
        "debit": t.debit_id,
        "credit": t.credit_id,
        "amount": t.amount,
        "kind": t.kind,
        "memo": t.memo,
        "ref_type": t.ref_type,
        "ref_id": t.ref_id,
        "reverses": t.reverses_id,
        "actor": t.actor_id,
        "key": t.idempotency_key,
        "request": t.request_hash,
        "at": t.created_at,
        "debit_after": t.debit_balance_after,
        "credit_after": t.credit_balance_after,
    }


# the sequence's name looked up once per statement, not once per id (a third of the UPDATE's round trip for 300 ids)
_RESERVE_IDS = (
    "WITH seq AS MATERIALIZED (SELECT pg_get_serial_sequence('ledger_transfer', 'id')::regclass AS name) "
    "SELECT nextval(seq.name) FROM seq, generate_series(1, %s)"
)


def _apply_deltas(deltas: dict[int, int], reserve: int = 0) -> tuple[dict[int, int], list[int]]:
    """Change constrained balances in one statement, in id order (no deadlocks); returns the new balances and, when
    `reserve` > 0 (PostgreSQL), that many new transfer ids for COPY, asked for in the same round trip.

    The WHERE clause refuses any account whose balance would go negative; fewer rows back means not enough points.
    """
    items = sorted(deltas.items())
    if connection.vendor == "postgresql" and len(items) > _ARRAYS_FROM:
        # two array parameters whatever the size: psycopg parses a statement with thousands of placeholders slowly
        source = "unnest(%s::bigint[], %s::bigint[]) AS v(column1, column2)"
        params: list[Any] = [[k for k, _d in items], [d for _k, d in items]]
    else:
        cast = "::bigint" if connection.vendor == "postgresql" else ""
        source = "(VALUES " + ", ".join(f"(%s{cast}, %s{cast})" for _ in items) + ") AS v"
        params = [x for pair in items for x in pair]
    # only placeholders are interpolated into the statement; every value travels as a parameter
    sql = (
        "UPDATE ledger_account SET balance = ledger_account.balance + v.column2 "  # noqa: S608
        f"FROM {source} "
        "WHERE ledger_account.id = v.column1 AND ledger_account.constrained "
        "AND ledger_account.balance + v.column2 >= 0 "
        "RETURNING ledger_account.id, ledger_account.balance"
    )
    ids: list[int] = []
    with connection.cursor() as cursor, connection.cursor() as id_cursor:
        # psycopg's pipeline mode: BEGIN, the UPDATE and the id reservation go out together, one round trip
        pipeline = connection.connection.pipeline() if reserve else nullcontext()
        with pipeline:
            if items:
                cursor.execute(sql, params)
            if reserve:
                id_cursor.execute(_RESERVE_IDS, [reserve])
            rows = dict(cursor.fetchall()) if items else {}
            if reserve:
                ids = sorted(pk for (pk,) in id_cursor.fetchall())
    if len(rows) != len(items):
        raise InsufficientPoints()
    return rows, ids


def _existing(community_id: int, keys: Sequence[str]) -> dict[str, Transfer]:
    return {t.idempotency_key: t for t in Transfer.objects.filter(community_id=community_id, idempotency_key__in=keys)}


def _replay(
    existing: dict[str, Transfer], community_id: int, legs: Sequence[Leg], keys: Sequence[str], prints: Sequence[str]
) -> list[Transfer] | None:
    if not existing:
        return None
    if len(existing) != len(keys) or not all(
        _same_request(existing[k].request_hash, p, community_id, leg)
        for k, p, leg in zip(keys, prints, legs, strict=True)
    ):
        raise IdempotencyKeyReused()
    return [existing[k] for k in keys]


def _write(
    community_id: int,
    legs: Sequence[Leg],
    keys: Sequence[str],
    prints: Sequence[str],
    actor: Any,
    at: datetime | None = None,
) -> list[Transfer]:
    deltas: dict[int, int] = defaultdict(int)
    for leg in legs:
        if leg.debit.constrained:
            deltas[leg.debit.id] -= leg.amount
        if leg.credit.constrained:
            deltas[leg.credit.id] += leg.amount
    copy = connection.vendor == "postgresql" and len(legs) > _ARRAYS_FROM
    final, reserved = _apply_deltas(dict(deltas), reserve=len(legs) if copy else 0)
    # walk the legs in order to give each its running balances
    running = {acc: final[acc] - delta for acc, delta in deltas.items()}
    now = at or timezone.now()  # `at`: back-dated history (demo data, imports); the row hash covers it
    at_json = domain.canonical_time(now)
    key = hmac_key()
    actor_id = getattr(_user_of(actor), "pk", None)
    rows: list[tuple[Any, ...]] = []
    for leg, idem, fp in zip(legs, keys, prints, strict=True):
        debit, credit, amount = leg.debit, leg.credit, leg.amount
        debit_after = credit_after = None
        if debit.constrained:
            debit_after = running[debit.id] = running[debit.id] - amount
        if credit.constrained:
            credit_after = running[credit.id] = running[credit.id] + amount
        reverses_id = leg.reverses.id if leg.reverses is not None else None
        # its hash in one call (no dict, no JSON encoder), then the row as a tuple in _INSERT_FIELDS order
        digest = domain.transfer_row_hash(
            key, community_id, debit.id, credit.id, amount, leg.kind, leg.memo, leg.ref_type, leg.ref_id,
            reverses_id, actor_id, idem, fp, at_json, debit_after, credit_after,
        )  # fmt: skip
        rows.append(
            (
                community_id, debit.id, credit.id, amount, leg.kind, leg.memo, leg.ref_type, leg.ref_id, reverses_id,
                actor_id, idem, fp, now, debit_after, credit_after, digest,
            )
        )  # fmt: skip
    ids = _copy_pg(rows, reserved) if copy else _insert(rows)
    db = connection.alias  # a lookup in a thread-local: once, not once per row
    return [_built(pk, row, leg, db) for pk, row, leg in zip(ids, rows, legs, strict=True)]


_ALL_ATTNAMES = [f.attname for f in Transfer._meta.concrete_fields]
_INSERT_FIELDS = [f for f in Transfer._meta.concrete_fields if not f.primary_key]  # _write builds rows in this order


def _built(pk: int, row: tuple[Any, ...], leg: Leg | None, db: str) -> Transfer:
    """A saved Transfer from its inserted row without Model.__init__ (a third of a 300-leg batch's Python time went
    there): the same attributes from_db() sets, its accounts cached when the leg gives them (the fast award has only
    their ids: loaded on first use). No pre/post_init signals are sent; linli connects none to Transfer."""
    t = Transfer.__new__(Transfer)
    t.__dict__.update(zip(_ALL_ATTNAMES, (pk, *row), strict=True))
    state = ModelState()
    state.adding = False
    state.db = db
    if leg is not None:
        state.fields_cache = {"debit": leg.debit, "credit": leg.credit}
        if leg.reverses is not None:
            state.fields_cache["reverses"] = leg.reverses
    t._state = state
    return t


_INSERT_CHUNK = 500  # rows per statement: 500 × 16 parameters stays far below SQLite's and PostgreSQL's limits
# on PostgreSQL, statements for more rows than this send one array per column (unnest); a single posting keeps plain
# placeholders, which psycopg parses quickly when they are few
_ARRAYS_FROM = 8


@functools.lru_cache(maxsize=8)
def _insert_statement(vendor: str, rows: int) -> str:
    """INSERT … VALUES (%s, …), … RETURNING id for this many rows in _INSERT_FIELDS order."""
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in _INSERT_FIELDS)
    one_row = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    return f"INSERT INTO ledger_transfer ({columns}) VALUES {', '.join([one_row] * rows)} RETURNING id"  # noqa: S608


def _insert_one_sql() -> str:
    return _insert_statement(connection.vendor, 1)


def _insert(rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert the rows (in _INSERT_FIELDS order) and return their ids in the same order. Values always travel as
    parameters or COPY data; only column names and placeholders are put into statements."""
    ops = connection.ops
    ids: list[int] = []
    when = _INSERT_FIELDS.index(Transfer._meta.get_field("created_at"))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_CHUNK):
            part = rows[start : start + _INSERT_CHUNK]
            params: list[Any] = []
            for row in part:
                params.extend(row)
                if connection.vendor != "postgresql":  # SQLite stores the time as text in Django's format
                    params[len(params) - len(row) + when] = ops.adapt_datetimefield_value(row[when])
            cursor.execute(_insert_statement(connection.vendor, len(part)), params)
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids


def _pg_copy_types() -> list[str]:
    """Binary COPY needs each column's exact type (varchar takes text's binary form)."""
    types = []
    for f in _INSERT_FIELDS:
        db_type = str(f.db_type(connection))
        types.append("text" if db_type.startswith("varchar") else _PG_TYPE_NAMES.get(db_type, db_type))
    return types


_PG_TYPE_NAMES = {"bigint": "int8", "integer": "int4", "timestamp with time zone": "timestamptz"}


def _copy_pg(rows: list[tuple[Any, ...]], ids: list[int]) -> list[int]:
    """PostgreSQL, many rows: COPY … FROM STDIN in binary with ids reserved from the table's sequence (see
    _apply_deltas) — a third of the server's time of an INSERT … SELECT unnest(arrays) of the same rows, and no text
    parsing on either side. Every constraint, unique index and (deferred) foreign key applies to COPY as to INSERT."""
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in _INSERT_FIELDS)
    statement = f"COPY ledger_transfer (id, {columns}) FROM STDIN (FORMAT BINARY)"
    # COPY is not cursor.execute: Django's error translation (IntegrityError on a reused key) is applied here
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as cp:
        cp.set_types(["int8", *_pg_copy_types()])
        for pk, row in zip(ids, rows, strict=True):
            cp.write_row((pk, *row))
    return ids


def _post(
    community_id: int,
    legs: Sequence[Leg],
    keys: Sequence[str],
    actor: Any,
    at: datetime | None = None,
    *,
    fresh_key: bool = False,
) -> tuple[list[Transfer], bool]:
    for leg in legs:
        _check_leg(community_id, leg, actor)
    _check_self_credit(legs, actor)
    prints = [_fingerprint(community_id, leg) for leg in legs]
    if fresh_key:  # no replay to catch, so no savepoint to roll back to: any failure rolls back the caller
        return _write(community_id, legs, keys, prints, actor, at), False
    # optimistic: write first; a retry is caught by the unique key (or by a balance its first run already spent)
    # and answered from the rows, so the common case costs no look-up by key
    try:
        with transaction.atomic():
            return _write(community_id, legs, keys, prints, actor, at), False
    except (IntegrityError, InsufficientPoints) as error:
        # a retry, a concurrent request with the same key that won the race, or a transfer reversed meanwhile
        replayed = _replay(_existing(community_id, keys), community_id, legs, keys, prints)
        if replayed is not None:
            return replayed, True
        if isinstance(error, IntegrityError) and any(leg.reverses is not None for leg in legs):
            raise AlreadyReversed() from None
        raise


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise Invalid(_("An idempotency key of 1 to 120 characters is required."), code="idempotency_key_invalid")
    return key


# transfer_post and transfer_post_batch open their own transaction around the write only (in _post): called on their own
# that is a plain BEGIN … COMMIT with no savepoint (two round trips fewer per award); inside a caller's transaction it
# is a savepoint, so a clash on the idempotency key rolls back just this posting.
def transfer_post(
    *,
    debit: Account,
    credit: Account,
    amount: int,
    kind: str,
    actor: Any,
    idempotency_key: str,
    memo: str = "",
    ref_type: str = "",
    ref_id: int | None = None,
    reverses: Transfer | None = None,
    at: datetime | None = None,
) -> Posted:
    """Move `amount` points from `debit` to `credit` (same community). Raises InsufficientPoints when a constrained
    account would go negative; replays return the first transfer with `replayed=True`."""
    leg = Leg(debit, credit, amount, kind, memo.strip(), ref_type, ref_id, reverses)
    transfers, replayed = _post(debit.community_id, [leg], [_clean_key(idempotency_key)], actor, at)
    return Posted(transfers[0], replayed)


def transfer_post_batch(
    *,
    community: Community,
    legs: Sequence[Leg],
    actor: Any,
    idempotency_key: str,
    at: datetime | None = None,
    fresh_key: bool = False,
) -> list[Transfer]:
    """Post all legs or none. Leg n gets the key "<idempotency_key>#n"; a retried batch returns the first result.

    fresh_key=True, inside the caller's transaction only: the key names a row that same transaction has just inserted
    (the market's "redemption-<id>"), so it cannot have been used and there is nothing to replay — the posting skips the
    savepoint that would catch a clash (two statements fewer while the shared accounts are locked). A clash all the
    same, or too few points, raises and rolls back the caller's whole transaction."""
    if fresh_key and not connection.in_atomic_block:
        raise RuntimeError("fresh_key needs the caller's transaction")  # a programming error, never user input
    if not legs:
        raise Invalid(_("Nothing to post."), code="batch_empty")
    base = _clean_key(idempotency_key)
    if len(base) > MAX_KEY - 7:
        raise Invalid(_("An idempotency key of 1 to 120 characters is required."), code="idempotency_key_invalid")
    keys = [f"{base}#{n}" for n in range(len(legs))]
    transfers, _replayed = _post(community.pk, list(legs), keys, actor, at, fresh_key=fresh_key)
    return transfers


@transaction.atomic
def transfer_reverse(
    *, transfer: Transfer, actor: Any, idempotency_key: str, memo: str = "", at: datetime | None = None
) -> Posted:
    """Undo a mistake with a new transfer in the opposite direction that points at the original. At most once."""
    if transfer.kind == TransferKind.REVERSAL:
        raise Invalid(_("A reversal cannot itself be reversed; post a new transfer instead."), code="reverse_reversal")
    existing = Transfer.objects.filter(reverses=transfer).first()
    if existing is not None and existing.idempotency_key != idempotency_key:
        raise AlreadyReversed()
    return transfer_post(
        debit=transfer.credit,
        credit=transfer.debit,
        amount=transfer.amount,
        kind=TransferKind.REVERSAL,
        actor=actor,
        idempotency_key=idempotency_key,
        memo=memo or _("Reversal of %(ref)s") % {"ref": transfer.reference},
        ref_type="transfer",
        ref_id=transfer.pk,
        reverses=transfer,
        at=at,
    )


def award(
    *,
    person: Person,
    amount: int,
    actor: Any,
    idempotency_key: str,
    memo: str = "",
    ref_type: str = "",
    ref_id: int | None = None,
) -> Posted:
    """New points for a person, out of the community's issuance account."""
    key = _clean_key(idempotency_key)
    posted = _award_fast(person, amount, actor, key, memo.strip(), ref_type, ref_id)
    if posted is not None:
        return posted
    # first award to this person or in this community (an account to create), or a retry: the general path
    found = {
        a.system_code or "person": a
        for a in Account.objects.filter(
            Q(person=person) | Q(community_id=person.community_id, system_code=SystemAccount.ISSUANCE)
        )
    }
    return transfer_post(
        debit=found.get(SystemAccount.ISSUANCE) or system_account(person.community_id, SystemAccount.ISSUANCE),
        credit=found.get("person") or account_for_person(person),
        amount=amount,
        kind=TransferKind.AWARD,
        actor=actor,
        idempotency_key=key,
        memo=memo,
        ref_type=ref_type,
        ref_id=ref_id,
    )


class _Fallback(Exception):
    """The fast award cannot finish on its own: roll back and take the general path."""


# The person's balance goes up and both account ids come back in one statement (an award never takes points from a
# person, so no floor check is needed; the issuance account is never written). Placeholders only.
_AWARD_SQL = (
    "UPDATE ledger_account SET balance = balance + %s WHERE person_id = %s AND constrained "
    "RETURNING id, community_id, balance, "
    "(SELECT i.id FROM ledger_account AS i WHERE i.community_id = %s AND i.system_code = %s)"
)
_AWARD_UPDATE = pgwire.statement(_AWARD_SQL)


@functools.cache
def _award_insert() -> pgwire.Statement:
    return pgwire.statement(_insert_statement("postgresql", 1))


def _award_fast(
    person: Person, amount: int, actor: Any, key: str, memo: str, ref_type: str, ref_id: int | None
) -> Posted | None:
    """The common award in two statements — UPDATE … RETURNING (which also finds both accounts) and the INSERT — with
    no ORM query building: what most of an award's time went to. The same checks, row and hash as transfer_post.
    None when the general path must run: an account to create, or an idempotency key already used (a replay)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount()
    if len(memo) > 200:
        raise Invalid(_("The note is too long (200 characters at most)."), code="memo_too_long", field="memo")
    _check_not_self({person.pk}, actor)
    award = _FastAward(person.community_id, amount, actor, key, memo, ref_type, ref_id)
    params: list[Any] = [amount, person.pk, person.community_id, SystemAccount.ISSUANCE.value]
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` looks this up on every attribute: once here
    if pgwire.usable(db):  # PostgreSQL, no transaction open: two round trips (decision 0018)
        try:
            done = pgwire.update_then_insert(db, _AWARD_UPDATE, params, _award_insert(), award.row)
        except IntegrityError:  # the key is taken (a replay or a clash), or a foreign key broken: nothing was kept
            return None
        if done is None:
            return None
        inserted, (pk,) = done
        return Posted(_built(pk, inserted, None, connection.alias), False)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_AWARD_SQL, params)
                row = award.row(cursor.fetchone())
            if row is None:
                raise _Fallback
            (pk,) = _insert([row])
    except (_Fallback, IntegrityError):
        return None
    return Posted(_built(pk, row, None, connection.alias), False)


@dataclass(frozen=True, slots=True)
class _FastAward:
    community_id: int
    amount: int
    actor: Any
    key: str
    memo: str
    ref_type: str
    ref_id: int | None

    def row(self, found: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        """The transfer row (in _INSERT_FIELDS order) from what _AWARD_SQL returned; None when it found no account to
        credit in this community or no issuance account (the general path creates them)."""
        if found is None or found[3] is None or found[1] != self.community_id:
            return None
        credit_id, community_id, credit_after, debit_id = found
        amount, memo, ref_type, ref_id, key = self.amount, self.memo, self.ref_type, self.ref_id, self.key
        fp = domain.request_fingerprint_v2(
            community_id, debit_id, credit_id, amount, TransferKind.AWARD, memo, ref_type, ref_id, None
        )
        now = timezone.now()
        actor_id = getattr(_user_of(self.actor), "pk", None)
        digest = domain.transfer_row_hash(
            hmac_key(), community_id, debit_id, credit_id, amount, TransferKind.AWARD, memo, ref_type, ref_id,
            None, actor_id, key, fp, domain.canonical_time(now), None, credit_after,
        )  # fmt: skip
        return (
            community_id, debit_id, credit_id, amount, TransferKind.AWARD.value, memo, ref_type, ref_id, None,
            actor_id, key, fp, now, None, credit_after, digest,
        )  # fmt: skip
