"""Reports read from a real PostgreSQL streaming replica (issue 8 part 4).

The module starts its OWN primary + replica pair (pgpair.py; independent of the cluster scripts/with-postgres.sh runs
the suite on), migrates it and runs replica_probe.py in a subprocess, so that settings are built with both
DATABASE_URL and DATABASE_REPLICA_URL (the "replica" alias exists only when settings see the variable). The probe
prints what it saw as JSON and the tests below assert on it. The pair is stopped and deleted afterwards, also when a
test fails. Runs in the PostgreSQL stage of `make test` only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linli.reports.tests.pgpair import Pair, replica_pair

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL only (make test-pg): streaming replication is a PostgreSQL feature; SQLite has no replica",
)

ROOT = Path(__file__).resolve().parents[3]
PROBE = Path(__file__).with_name("replica_probe.py")
STEP_TIMEOUT = 120  # seconds for `migrate` and for the probe; the whole module takes about 20 s


def _env(pair: Pair) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # the suite's own cluster is not ours
    env.update(
        DATABASE_URL=pair.primary_url,
        DATABASE_REPLICA_URL=pair.replica_url,
        REPLICA_ADMIN_URL=pair.admin_url(pair.replica_port),
        DJANGO_SETTINGS_MODULE="linli.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def probe() -> Iterator[dict[str, Any]]:
    with replica_pair() as pair:
        env = _env(pair)
        _run(["manage.py", "migrate", "--noinput", "-v", "0"], env)
        yield json.loads(_run([str(PROBE)], env))


def test_report_reads_run_on_the_replica(probe: dict[str, Any]) -> None:
    assert probe["aliases"] == ["default", "replica"]
    assert (probe["read_db_outside"], probe["recovery_outside"]) == ("default", False)
    assert probe["alias_inside"] == probe["read_db_inside"] == probe["router_read_inside"] == "replica"
    assert probe["recovery_inside"] is True  # pg_is_in_recovery(): the query really ran on the standby
    # 7 + 5 points awarded; once replay caught up the replica's report equals the primary's
    assert probe["primary_earned"] == {"dashboard": 12, "street": 12}
    assert probe["replica_earned"] == probe["primary_earned"]


def test_a_paused_replica_makes_the_report_lag_and_resuming_catches_up(probe: dict[str, Any]) -> None:
    paused = probe["paused"]
    assert probe["pause_state"] in ("paused", "pause requested")
    # the primary has the new award of 11 at once ...
    assert paused["primary_sees_transfer"] is True
    assert paused["primary_earned"] == {"dashboard": 23, "street": 23}
    # ... the report, reading the paused replica, does not: that is where it reads
    assert paused["report_sees_transfer"] is False
    assert paused["report_earned"] == {"dashboard": 12, "street": 12}
    # replay resumed: the report sees it
    assert probe["resumed_report_earned"] == {"dashboard": 23, "street": 23}


def test_writes_inside_replica_reads_go_to_the_primary(probe: dict[str, Any]) -> None:
    assert probe["router_write_inside"] == "default"
    assert "read-only transaction" in (probe["replica_refused"] or "")  # the standby would refuse any write
    assert probe["write_inside"] == {"on_primary": True, "month_stored_on_primary": True}


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_pair_is_stopped_and_deleted_when_the_body_fails() -> None:
    with pytest.raises(RuntimeError, match="boom"), replica_pair() as pair:
        seen = pair
        assert _listening(pair.primary_port)
        assert _listening(pair.replica_port)
        raise RuntimeError("boom")
    assert not seen.root.exists()
    assert not _listening(seen.primary_port)
    assert not _listening(seen.replica_port)
