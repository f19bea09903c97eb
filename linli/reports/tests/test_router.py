"""The replica router's decisions (linli/reports/router.py), on both databases; no replica server needed.

override_settings would not rebuild connections, so the "replica" alias is added to settings.DATABASES for a test and
the router is asked directly. test_replica.py shows the same against a real primary + streaming replica.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from linli.ledger.models import Transfer
from linli.reports.models import CommunityMonth
from linli.reports.router import REPLICA, ReplicaRouter, has_replica, read_db, replica_reads

ROOT = Path(__file__).resolve().parents[3]
router = ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings as DATABASE_REPLICA_URL makes them: a "replica" alias beside "default" (removed afterwards)."""
    monkeypatch.setitem(settings.DATABASES, REPLICA, {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}})


def test_without_a_replica_report_reads_stay_on_the_primary() -> None:
    assert REPLICA not in settings.DATABASES  # the suite runs without DATABASE_REPLICA_URL
    assert not has_replica()
    with replica_reads() as alias:
        assert alias == read_db() == "default"
        assert router.db_for_read(Transfer) is None  # None: Django's default, the primary
    assert read_db() == "default"
    assert router.db_for_write(Transfer) == "default"
    assert router.allow_migrate("default", "reports") is True


@pytest.mark.usefixtures("with_replica")
def test_with_a_replica_only_reads_inside_the_context_go_there() -> None:
    assert has_replica()
    assert read_db() == "default"
    assert router.db_for_read(Transfer) is None
    with replica_reads() as alias:
        assert alias == read_db() == REPLICA
        assert router.db_for_read(Transfer) == REPLICA
        assert router.db_for_read(CommunityMonth) == REPLICA
        assert router.db_for_write(Transfer) == "default"  # writes never leave the primary
        assert router.db_for_write(CommunityMonth) == "default"
        with replica_reads() as inner:  # nested: still the replica, and leaving the inner one keeps the outer
            assert inner == REPLICA
        assert read_db() == REPLICA
    assert read_db() == "default"
    assert router.db_for_read(Transfer) is None
    assert router.db_for_write(Transfer) == "default"


@pytest.mark.usefixtures("with_replica")
def test_an_error_inside_the_context_still_ends_it() -> None:
    with pytest.raises(ZeroDivisionError), replica_reads():
        assert read_db() == REPLICA
        _ = 1 / 0
    assert read_db() == "default"
    assert router.db_for_read(Transfer) is None


@pytest.mark.usefixtures("with_replica")
def test_migrations_run_only_on_the_primary() -> None:
    # the replica replays the primary's WAL: migrating it would fail (read-only) or fork it
    for app in ("reports", "ledger", "org", "auth"):
        assert router.allow_migrate(REPLICA, app) is False
        assert router.allow_migrate("default", app) is True
    with replica_reads():
        assert router.allow_migrate(REPLICA, "reports", "communitymonth") is False


@pytest.mark.usefixtures("with_replica")
def test_each_thread_has_its_own_context() -> None:
    """A request on one thread reading a report must not send another thread's service reads to the replica."""
    inside, outside = threading.Barrier(2, timeout=10), threading.Barrier(2, timeout=10)
    seen: dict[str, Any] = {}

    def report() -> None:
        with replica_reads():
            seen["report"] = (read_db(), router.db_for_read(Transfer))
            inside.wait()  # the other thread looks while this one is inside
            outside.wait()
        seen["report_after"] = read_db()

    def service() -> None:
        inside.wait()
        seen["service"] = (read_db(), router.db_for_read(Transfer))
        outside.wait()

    threads = [threading.Thread(target=report), threading.Thread(target=service)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert seen == {"report": (REPLICA, REPLICA), "service": ("default", None), "report_after": "default"}


@pytest.mark.usefixtures("with_replica")
def test_a_thread_started_inside_the_context_does_not_inherit_it() -> None:
    seen: list[str] = []
    with replica_reads():
        t = threading.Thread(target=lambda: seen.append(read_db()))
        t.start()
        t.join(timeout=10)
        assert read_db() == REPLICA
    assert seen == ["default"]


def test_settings_add_the_replica_alias_only_when_asked(tmp_path: Path) -> None:
    code = (
        "import json; from django.conf import settings; d = settings.DATABASES; "
        "print(json.dumps({'aliases': sorted(d), 'replica': d.get('replica'), 'routers': settings.DATABASE_ROUTERS}))"
    )

    def load(**extra: str) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_REPLICA_URL")}
        env.update(DJANGO_SETTINGS_MODULE="linli.settings", LINLI_VAR_DIR=str(tmp_path), **extra)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    plain = load(DATABASE_URL="postgres://linli@db.example.org:5432/linli")
    assert plain["aliases"] == ["default"]
    assert plain["routers"] == ["linli.reports.router.ReplicaRouter"]
    both = load(
        DATABASE_URL="postgres://linli@db.example.org:5432/linli",
        DATABASE_REPLICA_URL="postgres://reader@replica.example.org:5433/linli",
    )
    assert both["aliases"] == ["default", "replica"]
    replica = both["replica"]
    assert replica["ENGINE"] == "django.db.backends.postgresql"
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == ("replica.example.org", 5433, "reader")
    assert replica["TEST"] == {"MIRROR": "default"}  # test runs create no second database
    assert replica["CONN_HEALTH_CHECKS"] is True


def test_no_service_enters_replica_reads() -> None:
    """Only report reads may lag: a service reading a lagging copy would decide a write on stale rows (a retried award
    inside replica_reads() with replay behind fails on its own idempotency key instead of replaying). So the context is
    entered only by report views/selectors, never in a services, domain or figures module."""
    offenders = []
    for path in sorted((ROOT / "linli").rglob("*.py")):
        if "tests" in path.parts or path.name == "router.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(with|async with)\b[^#\n]*\breplica_reads\(", text, re.M) and (
            path.name in ("services.py", "domain.py", "figures.py", "models.py")
            or path.relative_to(ROOT / "linli").parts[0] != "reports"
        ):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
