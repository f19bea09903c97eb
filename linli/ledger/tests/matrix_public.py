"""Page permission rows for the public seal-proof page (see linli/common/tests/matrix.py)."""

from __future__ import annotations

from linli.common.tests.matrix import EVERYONE, Page

PAGES: list[Page] = [
    # public: everyone, signed in or not, may check a passbook reference against the sealed book
    Page("ledger:proof", EVERYONE, public=True),
]
