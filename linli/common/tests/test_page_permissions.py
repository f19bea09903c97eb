"""The permission matrix for pages: every named page, every role, inside and outside its scope.

Rows live beside each app (`linli/<app>/tests/matrix_*.py`, see linli/common/tests/matrix.py): a page, how to reach it
in the test world (linli/common/testing.py), and exactly which users may use it. Everyone else must be refused with
403 or 404 (never a 200, never a 500) and, for writes, nothing may change.
`test_every_page_is_in_the_matrix` fails when a page exists that no row covers: a new page must add its row.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import linli
from linli.common.testing import client_for
from linli.common.tests.matrix import ALL_USERS, Page


def _collect() -> list[Page]:
    pages: list[Page] = []
    root = Path(linli.__file__).parent
    for app in sorted(p for p in root.iterdir() if (p / "tests" / "__init__.py").exists()):
        for info in pkgutil.iter_modules([str(app / "tests")]):
            if info.name.startswith("matrix_"):
                pages += importlib.import_module(f"linli.{app.name}.tests.{info.name}").PAGES
    return pages


PAGES = _collect()

# Pages served by other means: the Django admin (its own is_staff gate), language switch, API (own matrix).
NOT_PAGES = {"set_language"}


def _url(page: Page, w: SimpleNamespace) -> str:
    url = reverse(page.name, args=page.args(w))
    query = page.query(w)
    return f"{url}?{query}" if query else url


def _named_patterns(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.app_name in {"admin"} or p.namespace in {"admin", "api"} or "api/" in str(p.pattern):
                continue
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names |= _named_patterns(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_page_is_in_the_matrix() -> None:
    covered = {p.name for p in PAGES}
    missing = _named_patterns(get_resolver()) - covered - NOT_PAGES
    assert not missing, f"pages without a permission-matrix row: {sorted(missing)}"


def _reaches(page: Page, status: int) -> bool:
    return status in ({200, 302} if page.method == "POST" else page.ok)


@pytest.mark.parametrize("page", [p for p in PAGES if p.method == "GET"], ids=lambda p: p.name)
def test_get_pages(world: SimpleNamespace, page: Page) -> None:
    url = _url(page, world)
    for name in ALL_USERS:
        status = client_for(world.users[name]).get(url).status_code
        if name in page.allowed:
            assert _reaches(page, status), f"{name} should reach {url}, got {status}"
        else:
            assert status in {403, 404}, f"{name} should be refused {url}, got {status}"
    anonymous = client_for(None).get(url)
    if page.public:
        assert anonymous.status_code == 200
    else:
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


@pytest.mark.parametrize(
    ("page", "user"),
    [(p, u) for p in PAGES if p.method == "POST" for u in ALL_USERS],
    ids=lambda v: v.name if isinstance(v, Page) else v,
)
def test_post_pages(world: SimpleNamespace, page: Page, user: str) -> None:
    url = _url(page, world)
    response = client_for(world.users[user]).post(url, page.data(world))
    if user in page.allowed:
        assert response.status_code in {200, 302}, f"{user} should reach {url}, got {response.status_code}"
    else:
        assert response.status_code in {403, 404}, f"{user} should be refused {url}, got {response.status_code}"
        if page.unchanged is not None:
            assert page.unchanged(world), f"refused {user} still changed something at {url}"
