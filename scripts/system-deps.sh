#!/usr/bin/env bash
# Install the Debian packages linli needs, only those that are missing.
#
#   chromium        the browser the Playwright tests drive (/usr/bin/chromium; never `playwright install`)
#   fonts-noto-cjk  Chinese glyphs for the browser tests, screenshots and PDFs
#   gettext         msgfmt, used by `manage.py compilemessages`
#   postgresql-15   only when /usr/lib/postgresql/15/bin/initdb is missing (throwaway test cluster)
#   nodejs, npm     front-end assets from the npm registry
#   python3-venv    only when the chosen Python cannot create a virtualenv
#
# Needs root for apt-get; otherwise it prints what to install and carries on (exit 0).
# PYTHON names the interpreter `make setup` will use for the virtualenv (default python3).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
missing=()

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian system; make sure chromium, Noto CJK fonts, gettext, PostgreSQL 15 and npm are installed"
    exit 0
fi

[ -x /usr/bin/chromium ] || have_pkg chromium || missing+=(chromium)
have_pkg fonts-noto-cjk || missing+=(fonts-noto-cjk)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
# WeasyPrint (printable passbooks, notices) renders with Pango; pdftoppm turns PDFs into PNGs in the tests
have_pkg libpango-1.0-0 || missing+=(libpango-1.0-0)
have_pkg libpangoft2-1.0-0 || missing+=(libpangoft2-1.0-0)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
postgres_missing=0
[ -x /usr/lib/postgresql/15/bin/initdb ] || postgres_missing=1

if [ "${#missing[@]}" -eq 0 ] && [ "$postgres_missing" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: not root, so not installing. Please run as root:"
    echo "    apt-get update && apt-get install -y ${missing[*]} $([ "$postgres_missing" -eq 1 ] && echo postgresql-15)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing ${missing[*]} $([ "$postgres_missing" -eq 1 ] && echo postgresql-15)"
apt-get update -qq
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "$postgres_missing" -eq 1 ]; then
    # postgresql-15 is Debian 12's server; elsewhere take the distribution's default major version
    # (scripts/with-postgres.sh picks whichever /usr/lib/postgresql/*/bin it finds).
    apt-get install -y -qq --no-install-recommends postgresql-15 \
        || apt-get install -y -qq --no-install-recommends postgresql
fi
