import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError, IntegrityError

from linli.ledger import selectors, services
from linli.ledger.errors import AlreadyReversed, IdempotencyKeyReused, InsufficientPoints
from linli.ledger.models import SystemAccount, Transfer, TransferKind


def test_award_spend_reverse(world):
    posted = services.award(person=world.pA1, amount=100, actor=world.staff_a, idempotency_key="a1", memo="清扫")
    assert not posted.replayed and posted.transfer.credit_balance_after == 100
    acc = services.account_for_person(world.pA1)
    market = services.system_account(world.A, SystemAccount.MARKET)
    spent = services.transfer_post(
        debit=acc, credit=market, amount=15, kind=TransferKind.REDEMPTION, actor=world.staff_a, idempotency_key="r1"
    )
    assert selectors.balance(acc) == 85 and spent.transfer.debit_balance_after == 85
    with pytest.raises(InsufficientPoints):
        services.transfer_post(
            debit=acc, credit=market, amount=86, kind=TransferKind.REDEMPTION, actor=world.staff_a, idempotency_key="r2"
        )
    rev = services.transfer_reverse(transfer=spent.transfer, actor=world.staff_a, idempotency_key="rev1")
    assert selectors.balance(acc) == 100 and rev.transfer.reverses_id == spent.transfer.pk
    with pytest.raises(AlreadyReversed):
        services.transfer_reverse(transfer=spent.transfer, actor=world.staff_a, idempotency_key="rev2")
    issuance = services.system_account(world.A, SystemAccount.ISSUANCE)
    assert selectors.balance(issuance) == -100
    lines = selectors.passbook_page(acc)
    assert [line.change for line in lines] == [15, -15, 100]
    assert [line.balance_after for line in lines] == [100, 85, 100]


def test_idempotent_replay_and_conflict(world):
    first = services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="k")
    again = services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="k")
    assert again.replayed and again.transfer.pk == first.transfer.pk
    with pytest.raises(IdempotencyKeyReused):
        services.award(person=world.pA1, amount=6, actor=world.staff_a, idempotency_key="k")
    assert Transfer.objects.count() == 1


def test_nobody_awards_themselves(world):
    from linli.common.errors import Forbidden

    with pytest.raises(Forbidden):
        services.award(person=world.pA1, amount=5, actor=world.resident_a1, idempotency_key="self")


def test_batch_is_all_or_nothing(world):
    iss = services.system_account(world.A, SystemAccount.ISSUANCE)
    legs = [services.Leg(iss, services.account_for_person(p), 3, TransferKind.AWARD) for p in (world.pA1, world.pA2)]
    out = services.transfer_post_batch(community=world.A, legs=legs, actor=world.staff_a, idempotency_key="act-1")
    assert [t.credit_balance_after for t in out] == [3, 3]
    assert (
        services.transfer_post_batch(community=world.A, legs=legs, actor=world.staff_a, idempotency_key="act-1")[0].pk
        == out[0].pk
    )
    market = services.system_account(world.A, SystemAccount.MARKET)
    bad = [
        services.Leg(services.account_for_person(world.pA1), market, 2, TransferKind.REDEMPTION),
        services.Leg(services.account_for_person(world.pA2), market, 4, TransferKind.REDEMPTION),
    ]
    with pytest.raises(InsufficientPoints):
        services.transfer_post_batch(community=world.A, legs=bad, actor=world.staff_a, idempotency_key="b2")
    assert selectors.balance(services.account_for_person(world.pA1)) == 3


def test_database_refuses_tampering(world):
    services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="t")
    t = Transfer.objects.get()
    with connection.cursor() as c:
        for sql in ("UPDATE ledger_transfer SET amount = 500", "DELETE FROM ledger_transfer"):
            with pytest.raises(DatabaseError), transaction.atomic():
                c.execute(sql)
        for sql, params in [
            ("UPDATE ledger_account SET balance = -1 WHERE id = %s", [t.credit_id]),
        ]:
            with pytest.raises(IntegrityError), transaction.atomic():
                c.execute(sql, params)
    assert Transfer.objects.get().amount == 5


def _raw_insert(world, **overrides):
    iss = services.system_account(world.A, SystemAccount.ISSUANCE)
    acc = services.account_for_person(world.pA1)
    row = {
        "community_id": world.A.id,
        "debit_id": iss.id,
        "credit_id": acc.id,
        "amount": 5,
        "kind": "award",
        "memo": "",
        "ref_type": "",
        "idempotency_key": "raw",
        "request_hash": "0" * 64,
        "created_at": "2026-11-01 00:00:00",
        "row_hash": "0" * 64,
    }
    row.update(overrides)
    cols = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    with connection.cursor() as c:
        c.execute(f"INSERT INTO ledger_transfer ({cols}) VALUES ({marks})", list(row.values()))


@pytest.mark.parametrize(
    "overrides",
    [{"amount": 0}, {"amount": -5}, {"credit_id": None}],
    ids=["zero", "negative", "no-credit"],
)
def test_raw_inserts_breaking_checks_are_refused(world, overrides):
    if overrides.get("credit_id", 1) is None:
        overrides = {"credit_id": services.system_account(world.A, SystemAccount.ISSUANCE).id}  # debit == credit
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_insert(world, **overrides)
    assert not Transfer.objects.exists()


def _raw_insert_checked_now(world, **overrides):
    """A raw insert with the deferred foreign keys checked at once (on PostgreSQL they wait for COMMIT otherwise)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _raw_insert(world, **overrides)


def test_raw_insert_with_an_account_of_another_community_is_refused(world):
    other = services.account_for_person(world.pB1)  # community B; the transfer says A
    issuance_b = services.system_account(world.B, SystemAccount.ISSUANCE)
    for overrides in ({"credit_id": other.id}, {"debit_id": issuance_b.id}, {"community_id": world.B.id}):
        with pytest.raises(IntegrityError):
            _raw_insert_checked_now(world, **overrides)
    # the same rows with matching communities go in: what is refused is the mismatch, nothing else
    _raw_insert_checked_now(world, community_id=world.B.id, debit_id=issuance_b.id, credit_id=other.id)
    assert list(Transfer.objects.values_list("community_id", flat=True)) == [world.B.id]


def test_raw_insert_with_an_account_that_does_not_exist_is_refused(world):
    with pytest.raises(IntegrityError):
        _raw_insert_checked_now(world, credit_id=10**9)
    assert not Transfer.objects.exists()


def test_raw_duplicate_idempotency_key_is_refused(world):
    services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="dup")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_insert(world, idempotency_key="dup")
    assert Transfer.objects.count() == 1


def test_a_transfer_is_reversed_at_most_once_even_by_raw_sql(world):
    t = services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="o").transfer
    services.transfer_reverse(transfer=t, actor=world.staff_a, idempotency_key="rev")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_insert(world, idempotency_key="rev-again", reverses_id=t.id, kind="reversal")


def test_actor_objects_are_recorded_and_checked_like_users(world):
    from linli.common.errors import Forbidden
    from linli.org.access import actor_for

    posted = services.award(person=world.pA2, amount=4, actor=actor_for(world.staff_a), idempotency_key="ac1")
    assert posted.transfer.actor_id == world.staff_a.pk
    with pytest.raises(Forbidden):
        services.award(person=world.pA1, amount=4, actor=actor_for(world.resident_a1), idempotency_key="ac2")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only: its planner's choice is what we check")
def test_lookups_by_cause_and_by_reversal_use_their_partial_indexes(world):
    """The two indexes hold only transfers that have a cause or reverse one; a lookup naming one still uses them."""
    t = services.award(
        person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="c", ref_type="claim", ref_id=3
    ).transfer
    services.transfer_reverse(transfer=t, actor=world.staff_a, idempotency_key="rev")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert "transfer_ref_set" in Transfer.objects.filter(ref_type="claim", ref_id=3).explain()
    assert "transfer_reversed_once" in Transfer.objects.filter(reverses_id__in=[t.pk]).explain()
