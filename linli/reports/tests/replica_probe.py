"""Run by test_replica.py in a subprocess, against a real primary + streaming replica (DATABASE_URL and
DATABASE_REPLICA_URL set, so settings build the "replica" alias; both migrated). Prints one JSON object.

REPLICA_ADMIN_URL is a superuser URL of the replica: pausing WAL replay needs it. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
django.setup()

import psycopg  # noqa: E402
from django.db import connections  # noqa: E402

from linli.common.testing import make_world  # noqa: E402
from linli.ledger import services as ledger  # noqa: E402
from linli.ledger.models import Transfer  # noqa: E402
from linli.org.access import actor_for  # noqa: E402
from linli.reports import selectors  # noqa: E402
from linli.reports.models import CommunityMonth  # noqa: E402
from linli.reports.router import ReplicaRouter, read_db, replica_reads  # noqa: E402

TIMEOUT = 20.0  # seconds for the replica to replay what the primary wrote


def one(alias: str, sql: str, params: list[Any] | None = None) -> Any:
    with connections[alias].cursor() as c:
        c.execute(sql, params or [])
        row = c.fetchone()
    return row[0] if row else None


def caught_up(admin: psycopg.Connection[Any]) -> float:
    """Wait until the replica has replayed everything the primary has written so far; the seconds it took.

    The target is the WAL *insert* position: the pair runs with synchronous_commit = off, so a committed transaction's
    record may still sit in WAL buffers, behind pg_current_wal_lsn() (the write position), until the WAL writer wakes;
    waiting for the write position returned before the last award was replayed (CI failed on it)."""
    target = one("default", "SELECT pg_current_wal_insert_lsn()::text")
    began = time.monotonic()
    while time.monotonic() - began < TIMEOUT:
        row = admin.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0", [target]).fetchone()
        if row and row[0]:
            return round(time.monotonic() - began, 3)
        time.sleep(0.05)
    raise SystemExit(f"replica did not replay up to {target} within {TIMEOUT} s")


def main() -> None:
    admin = psycopg.connect(os.environ["REPLICA_ADMIN_URL"], autocommit=True, connect_timeout=10)
    out: dict[str, Any] = {"aliases": sorted(connections.settings), "read_db_outside": read_db()}
    w = make_world()
    staff, street_admin = actor_for(w.staff_a), actor_for(w.street_admin)
    month = selectors.current_month()

    def earned() -> dict[str, int]:
        """The same figure through the two report paths: the community dashboard and the street roll-up."""
        return {
            "dashboard": selectors.community_dashboard(staff, w.A).latest["points"]["earned"],
            "street": int(selectors.street_rollup(street_admin, w.S, month=month).totals["earned"] or 0),
        }

    ledger.award(person=w.pA1, amount=7, actor=w.staff_a, idempotency_key="probe-1")
    ledger.award(person=w.pA2, amount=5, actor=w.staff_a, idempotency_key="probe-2")
    out["primary_earned"] = earned()

    # (a) inside replica_reads() report queries run on the replica, and match the primary once replay caught up
    out["catch_up_seconds"] = caught_up(admin)
    out["recovery_outside"] = one("default", "SELECT pg_is_in_recovery()")
    with replica_reads() as alias:
        out["alias_inside"] = alias
        out["read_db_inside"] = read_db()
        out["recovery_inside"] = one(read_db(), "SELECT pg_is_in_recovery()")
        out["router_read_inside"] = ReplicaRouter().db_for_read(Transfer)
        out["replica_earned"] = earned()

    # (b) replay paused: a new award is on the primary at once, but the report (reading the replica) lags behind
    admin.execute("SELECT pg_wal_replay_pause()")
    pause = admin.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
    out["pause_state"] = pause[0] if pause else None
    late = ledger.award(person=w.pA1b, amount=11, actor=w.staff_a, idempotency_key="probe-late").transfer
    out["paused"] = {
        "primary_earned": earned(),
        "primary_sees_transfer": Transfer.objects.filter(pk=late.pk).exists(),
    }
    with replica_reads():
        out["paused"]["report_earned"] = earned()
        out["paused"]["report_sees_transfer"] = Transfer.objects.filter(pk=late.pk).exists()
    admin.execute("SELECT pg_wal_replay_resume()")
    out["resume_seconds"] = caught_up(admin)
    with replica_reads():
        out["resumed_report_earned"] = earned()

    # (c) writes inside replica_reads() still go to the primary — the replica refuses them
    with replica_reads():
        out["router_write_inside"] = ReplicaRouter().db_for_write(Transfer)
        # pB1 has no account yet: the award creates it through the ORM (a routed write) and posts the transfer
        posted = ledger.award(person=w.pB1, amount=4, actor=w.staff_b, idempotency_key="probe-inside")
        # a closed month read for the report is computed and stored (CommunityMonth) on the primary
        last = selectors.last_closed_month()
        selectors.month_figures(w.A.pk, [last])
        try:
            with connections["replica"].cursor() as c:
                c.execute("CREATE TABLE probe_write (id int)")
            out["replica_refused"] = None
        except Exception as e:  # the standby's own refusal, whatever the driver calls it
            out["replica_refused"] = str(e).splitlines()[0]
    out["write_inside"] = {
        "on_primary": Transfer.objects.using("default").filter(pk=posted.transfer.pk, amount=4).exists(),
        "month_stored_on_primary": CommunityMonth.objects.using("default").filter(community=w.A, month=last).exists(),
    }
    admin.close()
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
