"""Claims under real concurrency (real threads, own connections, a real SQLite file or the throwaway PostgreSQL):
two checkers approving at once post once, and approvals racing for one person's cap never exceed it."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum
from django.utils import timezone

from linli.common.testing import make_world
from linli.ledger import selectors as ledger_reads
from linli.ledger.models import Transfer
from linli.ledger.tests.test_concurrency import assert_real_database, real_db, run_threads  # noqa: F401
from linli.org.access import actor_for
from linli.points import services
from linli.points.errors import CapExceeded, WrongStatus
from linli.points.models import Claim, ClaimStatus
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue


def _verified_claims(w: Any, count: int, minutes: int) -> list[Claim]:
    claims = []
    for i in range(count):
        claim = services.claim_submit(
            actor=actor_for(w.resident_a1),
            person=w.pA1,
            rule=w.cleanup,
            data=ClaimInput(occurred_on=timezone.localdate(), minutes=minutes),
            idempotency_key=f"c{i}",
        ).claim
        services.claim_verify(actor=actor_for(w.steward_a1), claim=claim)
        claims.append(claim)
    return claims


def test_8_approvals_of_one_claim_post_once(real_db: None) -> None:  # noqa: F811
    assert_real_database()
    w = make_catalogue(make_world())
    (claim,) = _verified_claims(w, 1, 60)
    approvers = [w.staff_a, w.street_admin] * 4
    results = run_threads(8, lambda i: services.claim_approve(actor=actor_for(approvers[i]), claim=claim))
    ok = [v for kind, v in results if kind == "ok"]
    refused = [v for kind, v in results if kind == "error"]
    assert len(ok) == 1 and len(refused) == 7
    assert all(isinstance(e, WrongStatus) for e in refused), refused
    assert Transfer.objects.filter(ref_type="claim", ref_id=claim.pk).count() == 1
    assert ledger_reads.person_balance(w.pA1) == 3


def test_racing_approvals_never_pass_the_daily_cap(real_db: None) -> None:  # noqa: F811
    assert_real_database()
    w = make_catalogue(make_world())
    claims = _verified_claims(w, 6, 120)  # 6 points each; the daily cap is 9: exactly one fits
    results = run_threads(6, lambda i: services.claim_approve(actor=actor_for(w.staff_a), claim=claims[i]))
    ok = [v for kind, v in results if kind == "ok"]
    refused = [v for kind, v in results if kind == "error"]
    assert len(ok) == 1 and all(isinstance(e, CapExceeded) for e in refused), refused
    approved = Claim.objects.filter(status=ClaimStatus.APPROVED).aggregate(s=Sum("points"))["s"]
    assert approved == 6 and ledger_reads.person_balance(w.pA1) == 6
