"""Browser tests: Playwright drives Debian's /usr/bin/chromium against pytest-django's live server.

Run with `make test-browser` (pytest -m browser). Screenshots go to var/screenshots/.
"""
