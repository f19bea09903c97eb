"""The settings that matter for safety and data integrity, checked against fresh interpreters.

Settings are read once per process, so each case loads `linli.settings` in a subprocess with its own env.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

import linli.settings as linli_settings

BASE_DIR = Path(linli_settings.BASE_DIR)
CLEARED = (
    "DATABASE_URL",
    "SECRET_KEY",
    "LINLI_PRODUCTION",
    "DEBUG",
    "ALLOWED_HOSTS",
    "LINLI_TEST_SQLITE_FILE",
)


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    full_env.update(DJANGO_SETTINGS_MODULE="linli.settings", LINLI_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=full_env, capture_output=True, text=True, timeout=120
    )


SETTINGS_JSON = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"), "port": db.get("PORT"),
    "user": db.get("USER"), "options": db.get("OPTIONS", {}), "health": db.get("CONN_HEALTH_CHECKS"),
    "debug": settings.DEBUG, "ssl_redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "session_secure": settings.SESSION_COOKIE_SECURE, "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS, "storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "hashers": settings.PASSWORD_HASHERS, "language": settings.LANGUAGE_CODE,
}))
"""


def settings_with(tmp_path: Path, **env: str) -> dict:
    result = run_python(SETTINGS_JSON, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    result = run_python("from django.conf import settings; settings.INSTALLED_APPS", tmp_path, LINLI_PRODUCTION="1")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_turns_on_the_safeguards(tmp_path: Path) -> None:
    s = settings_with(tmp_path, LINLI_PRODUCTION="1", SECRET_KEY="x" * 60, ALLOWED_HOSTS="example.org")
    assert s["debug"] is False
    assert s["ssl_redirect"] is True
    assert s["session_secure"] is True and s["csrf_secure"] is True
    assert s["hsts"] >= 31536000
    assert s["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_demo_defaults_are_local_and_chinese(tmp_path: Path) -> None:
    s = settings_with(tmp_path)
    assert s["debug"] is False
    assert s["ssl_redirect"] is False
    assert s["language"] == "zh-hans"
    assert s["name"] == str(tmp_path / "linli.sqlite3")


def test_argon2_is_the_first_password_hasher(tmp_path: Path) -> None:
    # the test suite swaps in a fast hasher (linli/conftest.py), so read what the settings module itself says
    assert linli_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings_with(tmp_path)["hashers"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    from django.contrib.auth.hashers import Argon2PasswordHasher

    hasher = Argon2PasswordHasher()
    encoded = hasher.encode("correct horse", hasher.salt())  # fails if argon2-cffi is missing
    assert encoded.startswith("argon2$") and hasher.verify("correct horse", encoded)


SQLITE_PROBE = """
import json, sqlite3
from django.db import connection, transaction
with connection.cursor() as c:
    journal = c.execute("PRAGMA journal_mode").fetchone()[0]
    fks = c.execute("PRAGMA foreign_keys").fetchone()[0]
# IMMEDIATE: the write lock is taken at BEGIN, before anything is written, so a second writer cannot start.
with transaction.atomic():
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        locked = False
        other.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        locked = "locked" in str(exc)
    other.close()
print(json.dumps({"journal": journal, "fks": fks, "locked": locked, "mode": connection.transaction_mode}))
"""


def test_sqlite_file_uses_wal_foreign_keys_and_immediate_transactions(tmp_path: Path) -> None:
    db_file = tmp_path / "probe.sqlite3"
    result = run_python(SQLITE_PROBE, tmp_path, DATABASE_URL=f"sqlite:///{db_file}")
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["journal"] == "wal"
    assert probe["fks"] == 1
    assert probe["mode"] == "IMMEDIATE"
    assert probe["locked"] is True


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    s = settings_with(tmp_path, DATABASE_URL="postgres://linli:secret@db.example.org:5433/linli_prod")
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["host"], s["port"], s["user"], s["name"]) == ("db.example.org", 5433, "linli", "linli_prod")
    assert s["health"] is True
    assert "transaction_mode" not in s["options"]
    assert s["options"]["prepare_threshold"] == 5  # psycopg may prepare the award's statements (decision 0017)


def test_prepared_statements_can_be_turned_off_for_a_pooler_and_a_bad_value_is_refused(tmp_path: Path) -> None:
    url = "postgres://linli@db.example.org/linli"
    assert settings_with(tmp_path, DATABASE_URL=url, LINLI_PG_PREPARE_THRESHOLD="off")["options"] == {
        "prepare_threshold": None
    }
    assert settings_with(tmp_path, DATABASE_URL=url, LINLI_PG_PREPARE_THRESHOLD=" 2 ")["options"] == {
        "prepare_threshold": 2
    }
    refused = run_python(SETTINGS_JSON, tmp_path, DATABASE_URL=url, LINLI_PG_PREPARE_THRESHOLD="sometimes")
    assert refused.returncode != 0 and "LINLI_PG_PREPARE_THRESHOLD" in refused.stderr


def test_suite_runs_on_the_database_it_was_asked_for() -> None:
    # `make test-pg` sets DATABASE_URL to the throwaway cluster; `make test-sqlite` leaves it unset.
    wanted = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == wanted
