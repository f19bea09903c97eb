"""Shared plumbing for the ledger benchmarks (bench/ledger_*.py); not a benchmark itself.

Every ledger benchmark works on a database of its own, so the scripts can run one after another against one server:
- SQLite (no DATABASE_URL): a throwaway directory as LINLI_VAR_DIR, removed at the end.
- PostgreSQL (DATABASE_URL=postgres://.../NAME): a fresh database NAME_bench_<script> created on the same server
  (the role needs CREATEDB, as scripts/with-postgres.sh gives it), dropped at the end.

BENCH_QUICK=1 makes every script pick its small sizes (the whole `make bench` then takes a few minutes).
All traffic goes to the database server named by DATABASE_URL (127.0.0.1 under scripts/with-postgres.sh).
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("BENCH_QUICK", "").strip().lower() not in ("", "0", "false", "no")
PGBIN = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")

_cleanups: list[Callable[[], None]] = []


def _run_cleanups() -> None:
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception as exc:  # a failed cleanup must not hide the result already printed
            print(f"bench cleanup: {exc}", file=sys.stderr)


def _pg_admin(url: str, statements: Sequence[str]) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql.encode())  # our own fixed statements, no user input


def boot(name: str) -> None:
    """Point Django at a database of this script's own, set Django up and migrate. Call before importing models."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        base = parts.path.lstrip("/") or "postgres"
        dbname = f"{base}_bench_{name}"
        _pg_admin(url, [f'DROP DATABASE IF EXISTS "{dbname}"', f'CREATE DATABASE "{dbname}"'])
        own = urlunsplit(parts._replace(path=f"/{dbname}"))
        os.environ["DATABASE_URL"] = own

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            _pg_admin(url, [f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'])

        _cleanups.append(drop)
    else:
        os.environ.pop("DATABASE_URL", None)
        tmp = tempfile.mkdtemp(prefix=f"linli-bench-{name}-")
        os.environ["LINLI_VAR_DIR"] = tmp
        _cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    atexit.register(_run_cleanups)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        Path(settings.DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)


_own: dict[str, str] = {}


def extra_database(suffix: str) -> str:
    """Another empty database beside this script's own (PostgreSQL: same server; SQLite: another file), migrated
    by `use_database` + migrate. Returns the NAME to give `use_database`; dropped at the end."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return str(Path(db["NAME"]).with_name(f"{suffix}.sqlite3"))
    name = f"{db['NAME']}_{suffix}"
    admin = os.environ["DATABASE_URL"]
    _pg_admin(admin, [f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'])
    _cleanups.append(lambda: _pg_admin(admin, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']))
    return name


def use_database(name: str) -> None:
    """Point the default connection at another database NAME (from `extra_database`, or the original)."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def vendor() -> str:
    from django.db import connection

    return connection.vendor


def pg_dsn() -> dict[str, str]:
    """Host, port, user and database of the Django connection, for pgbench and psql."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {
        "host": str(db.get("HOST") or "127.0.0.1"),
        "port": str(db.get("PORT") or 5432),
        "user": str(db.get("USER") or ""),
        "dbname": str(db["NAME"]),
        "password": str(db.get("PASSWORD") or ""),
    }


def machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            db_version = "PostgreSQL " + str(cursor.fetchone()[0])
            settings_seen = {}
            for knob in ("fsync", "synchronous_commit", "shared_buffers"):
                cursor.execute(f"SHOW {knob}")
                settings_seen[knob] = str(cursor.fetchone()[0])
        else:
            cursor.execute("select sqlite_version()")
            db_version = "SQLite " + str(cursor.fetchone()[0])
            cursor.execute("PRAGMA journal_mode")
            settings_seen = {"journal_mode": str(cursor.fetchone()[0])}
            cursor.execute("PRAGMA synchronous")
            settings_seen["synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
                int(cursor.fetchone()[0]), "?"
            )
    return {
        "date": date.today().isoformat(),
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "database": db_version,
        "database_settings": settings_seen,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "quick": QUICK,
    }


def emit(result: dict[str, Any]) -> None:
    """Print the one JSON object this script produces (with the load average at the end, a noise indicator)."""
    result.setdefault("loadavg_at_end", [round(x, 2) for x in os.getloadavg()])
    print(json.dumps(result, indent=2, ensure_ascii=False), flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def samples(fn: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    """Seconds per call, `repeat` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def summary(seconds: list[float]) -> dict[str, float]:
    seconds = sorted(seconds)
    return {
        "median_ms": ms(statistics.median(seconds)),
        "p10_ms": ms(seconds[int(len(seconds) * 0.1)]),
        "p90_ms": ms(seconds[min(len(seconds) - 1, int(len(seconds) * 0.9))]),
        "samples": len(seconds),
    }


def median_ms(fn: Callable[[], object], repeat: int, warmup: int = 3) -> dict[str, float]:
    samples_ = sorted(samples(fn, repeat, warmup))
    return {
        "median_ms": ms(statistics.median(samples_)),
        "p90_ms": ms(samples_[min(len(samples_) - 1, int(len(samples_) * 0.9))]),
        "repeat": repeat,
    }


def ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 3) if reference else None


def make_people(n: int, *, communities: int = 1, code: str = "bench") -> dict[str, Any]:
    """A street with `communities` communities, `n` people spread over them round-robin (with person accounts),
    the system accounts, and one community staff member to act as the awarding actor. Bulk inserts, a few seconds."""
    from linli.ledger import services
    from linli.ledger.models import Account, AccountKind, SystemAccount
    from linli.org.models import Community, Person, Role, RoleAssignment, Street, User

    street = Street.objects.create(name="基准街道", code=f"{code}-st")
    comms = [
        Community.objects.create(street=street, name=f"基准社区{i + 1}", code=f"{code}{i + 1}")
        for i in range(communities)
    ]
    family = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "秀英桂兰建华志强淑珍玉兰德明丽娟海燕文杰"
    people = Person.objects.bulk_create(
        [
            Person(
                community=comms[i % communities],
                name=family[i % 20] + given[i % 16] + given[(i // 16) % 16],
                phone=f"197{i:08d}",
                birth_year=1940 + i % 70,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    accounts = Account.objects.bulk_create(
        [Account(community_id=p.community_id, kind=AccountKind.PERSON, person=p) for p in people], batch_size=2000
    )
    for c in comms:
        for code_ in SystemAccount.values:
            services.system_account(c, code_)
    staff = User.objects.create_user(phone="13712345678", password="bench-password-1", name="基准工作者")
    for c in comms:
        RoleAssignment.objects.create(user=staff, role=Role.COMMUNITY_STAFF, community=c)
    return {"communities": comms, "people": people, "accounts": accounts, "staff": staff}
