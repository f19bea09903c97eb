"""Settings read from the environment, with safe defaults for the demo.

DATABASE_URL   sqlite:///var/linli.sqlite3 (default) or postgres://user:pass@host:port/db
SECRET_KEY     required when DEBUG is off
DEBUG          "1"/"true" to enable (default on only for the demo and tests)
ALLOWED_HOSTS  comma separated (default 127.0.0.1,localhost)
PORT           used by `linli serve` / `linli demo` (default 8000)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# LINLI_PRODUCTION=1 turns on every deployment safeguard (HTTPS, secure cookies, HSTS, required SECRET_KEY).
# Without it linli runs as a local demo on http://127.0.0.1.
PRODUCTION = env_bool("LINLI_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
_DEMO_SECRET = "linli-demo-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when LINLI_PRODUCTION is on")
    SECRET_KEY = _DEMO_SECRET
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
PORT = int(os.environ.get("PORT", "8000"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the Swagger UI of /api/v1/docs from its bundled static files instead of a CDN
    "axes",
    "linli.common",
    "linli.org",
    "linli.ledger",
    "linli.points",
    "linli.orders",
    "linli.market",
    "linli.council",
    "linli.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "linli.common.middleware.DomainErrorMiddleware",
    "linli.org.middleware.PasswordChangeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "linli.org.context_processors.actor",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------------------------
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'linli.sqlite3'}"),
        # 0: a connection per request. Django's threaded server starts a thread per request and a kept connection
        # outlives its thread, so under load PostgreSQL runs out of slots; a server with long-lived worker threads
        # (gunicorn) may set LINLI_CONN_MAX_AGE=60.
        conn_max_age=int(os.environ.get("LINLI_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two writers queue
    # on busy_timeout instead of failing with "database is locked" halfway through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})
    if os.environ.get("LINLI_TEST_SQLITE_FILE"):
        DATABASES["default"]["TEST"]["NAME"] = os.environ["LINLI_TEST_SQLITE_FILE"]
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # psycopg's prepare_threshold. Django's cursors bind on the client, so psycopg prepares none of their statements;
    # the ledger's single award prepares its own two unless this is "off" (decisions 0017, 0018). "off" behind a
    # pooler in transaction mode that cannot carry prepared statements (PgBouncer < 1.21).
    _prepare = os.environ.get("LINLI_PG_PREPARE_THRESHOLD", "5").strip().lower()
    if _prepare != "off" and not _prepare.isdigit():
        raise ImproperlyConfigured("LINLI_PG_PREPARE_THRESHOLD: a whole number of uses, or off")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None if _prepare == "off" else int(_prepare)

# Reports may read from a PostgreSQL streaming replica (linli/reports/router.py): only inside replica_reads().
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=int(os.environ.get("LINLI_CONN_MAX_AGE", "0"))
    )
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # test runs have no second copy to create
DATABASE_ROUTERS = ["linli.reports.router.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five wrong passwords for one phone from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Behind nginx set LINLI_TRUSTED_PROXIES=1 so throttling sees the resident's address, not the proxy's.
LINLI_TRUSTED_PROXIES = int(os.environ.get("LINLI_TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "linli.common.net.client_ip"

SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; keep default for forms

# --- i18n -----------------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static ---------------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from the npm registry (package.json) and are served straight from node_modules.
STATICFILES_DIRS = [
    BASE_DIR / "linli" / "static",  # linli/ itself is not an installed app, so its static/ needs listing
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- the points ledger ------------------------------------------------------------------------------------------------
# Key of the transfers' row hashes (HMAC). Empty: derived from SECRET_KEY. Set it separately to be free to rotate
# SECRET_KEY; once transfers exist, changing the ledger key makes `linli ledger verify` fail on every row.
LINLI_LEDGER_KEY = os.environ.get("LINLI_LEDGER_KEY", "")

# --- upload limits (roster import) ----------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# evidence photos: larger uploads are refused with a clear message (nginx: client_max_body_size above this)
LINLI_PHOTO_MAX_BYTES = int(os.environ.get("LINLI_PHOTO_MAX_BYTES", str(10 * 1024 * 1024)))
LINLI_IMPORT_MAX_ROWS = int(os.environ.get("LINLI_IMPORT_MAX_ROWS", "20000"))

# --- security (production) ------------------------------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The points market puts assessed donated items on its shelf (linli/points/market_port.py).
LINLI_MARKET_PORT = "linli.market.ports.DonatedStock"
