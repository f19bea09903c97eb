"""The dashboard pages with October 2026 lived through in community A (linli/reports/testing.py): the numbers shown are
the ones counted by hand; the street ranks its communities; bad input is a 400 page; reads go through replica_reads."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext, override
from openpyxl import load_workbook

from linli.common.testing import client_for, make_world
from linli.reports import views_dashboards
from linli.reports.testing import AFTER, at, make_october

pytestmark = pytest.mark.django_db


@pytest.fixture
def october() -> SimpleNamespace:
    return make_october(make_world())


def get(client: Client, url: str, status: int = 200) -> str:
    with at(AFTER):
        response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def by_testid(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{re.escape(name)}"[^>]*>(.*?)<', html, re.S)
    assert match, f"no {name}"
    return match.group(1).strip()


def row(html: str, key: int) -> list[str]:
    """The cells of the table row with data-key=<key>, tags stripped."""
    match = re.search(rf'<tr data-key="{key}">(.*?)</tr>', html, re.S)
    assert match, f"no row {key}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1), re.S)]


def test_community_dashboard_shows_october(october: SimpleNamespace) -> None:
    w = october
    html = get(client_for(w.staff_a), reverse("reports:community", args=[w.A.id]))
    closed = {
        "volunteers": "3",
        "earned": "28",
        "spent": "15",
        "circulation": "33",
        "orders_received": "2",
        "orders_completed": "1",
        "completion_rate": "50%",
        "satisfaction_rate": "100%",
        "meetings": "1",
    }
    for key, value in closed.items():
        assert by_testid(html, f"closed-{key}") == value, key
    # November (the running month at AFTER) has nothing yet: counts 0, rates "—" (never 0 %)
    assert by_testid(html, "running-volunteers") == "0"
    assert by_testid(html, "running-completion_rate") == "—"
    assert by_testid(html, "running-circulation") == "33"
    with override("zh-hans"):
        assert gettext("Volunteers each month") in html
        assert gettext("The numbers as a table") in html
    # six charts, each an accessible SVG followed by its numbers
    for key in ("volunteers", "points", "circulation", "status", "colour", "rates"):
        figure = re.search(rf'data-testid="chart-{key}">(.*?)</figure>', html, re.S)
        assert figure, key
        assert 'role="img"' in figure.group(1) and "<title>" in figure.group(1) and "<details" in figure.group(1)
    points = re.search(r'data-testid="chart-points">(.*?)</figure>', html, re.S).group(1)  # type: ignore[union-attr]
    table = points[points.index("<table") :]
    assert re.search(r"<td>28</td><td>15</td>", table)  # October: issued 28, redeemed 15
    assert re.search(r"<td>20</td><td>0</td>", table)  # September: 20 awarded directly
    # the grid table of the last closed month: A1 holds 王秀英 (17) and 王老伯 (5), both orders and the meeting
    assert row(html, w.A1.id)[1:] == ["2", "22", "2", "1", "1"]
    assert row(html, w.A2.id)[1:] == ["1", "6", "0", "0", "0"]
    assert reverse("reports:grid", args=[w.A1.id]) in html
    assert reverse("reports:disclosures") in html


def test_grid_dashboard(october: SimpleNamespace) -> None:
    w = october
    html = get(client_for(w.grid_worker_a1), reverse("reports:grid", args=[w.A1.id]))
    assert by_testid(html, "closed-volunteers") == "2"
    assert by_testid(html, "closed-earned") == "22"
    assert by_testid(html, "closed-received") == "2"
    assert by_testid(html, "closed-meetings") == "1"
    assert 'data-testid="chart-orders"' in html
    assert reverse("reports:community", args=[w.A.id]) in html  # a grid worker reads their community's dashboard


def test_street_ranks_its_communities(october: SimpleNamespace) -> None:
    w = october
    admin = client_for(w.street_admin)
    url = reverse("reports:street", args=[w.S.id])
    html = get(admin, url)  # the last closed month at AFTER: October
    assert 'value="2026-10" selected' in html
    body = html[html.index('data-testid="street-table"') :]
    assert body.index(f'data-key="{w.A.id}"') < body.index(f'data-key="{w.B.id}"')
    a = row(html, w.A.id)
    # rank, name, residents, volunteers, share, earned, spent, circulation, orders, completion, satisfaction, meetings
    assert a[0] == "1" and a[1] == w.A.name
    assert a[3:12] == ["3", a[4], "28", "15", "33", "2", "50%", "100%", "1"]
    b = row(html, w.B.id)
    assert b[0] == "2" and b[3] == "0" and b[9] == "—"
    assert 'role="img"' in html[html.index('data-testid="chart-street"') :]
    assert w.C.name not in html  # another street's community
    # ranked by another figure: the link in the column title
    html = get(admin, f"{url}?month=2026-10&metric=meetings")
    assert 'aria-sort="descending"' in html and row(html, w.A.id)[0] == "1"
    # September: A earned the 20 points of a direct award
    html = get(admin, f"{url}?month=2026-09&metric=earned")
    assert row(html, w.A.id)[5] == "20"


def test_street_xlsx_is_the_same_table(october: SimpleNamespace) -> None:
    w = october
    for url in (
        reverse("reports:street_xlsx", args=[w.S.id]) + "?month=2026-10",
        reverse("reports:street", args=[w.S.id]) + "?month=2026-10&format=xlsx",
    ):
        with at(AFTER):
            response = client_for(w.street_admin).get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][:4] == (1, w.A.name, rows[1][2], 3)
        assert rows[1][5:12] == (28, 15, 33, 2, 50.0, 100.0, 1)
        assert rows[2][1] == w.B.name
        assert rows[-1][3] == 3 and rows[-1][5] == 28  # totals


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month=2026-13", "Give the month as YYYY-MM, for example 2026-10."),
        ("month=October", "Give the month as YYYY-MM, for example 2026-10."),
        ("month=2099-01", "That month has not begun yet."),
        ("metric=%3Cscript%3E", "There is no such figure to rank by."),
    ],
)
def test_street_bad_input_is_a_400_page(october: SimpleNamespace, query: str, message: str) -> None:
    w = october
    for name in ("street", "street_xlsx"):
        html = get(client_for(w.street_admin), reverse(f"reports:{name}", args=[w.S.id]) + f"?{query}", status=400)
        with override("zh-hans"):
            assert gettext(message) in html
        assert "<script>" not in html


def test_outsiders_get_404(october: SimpleNamespace) -> None:
    w = october
    get(client_for(w.staff_a), reverse("reports:street", args=[w.S.id]), status=404)
    get(client_for(w.staff_b), reverse("reports:community", args=[w.A.id]), status=404)
    get(client_for(w.staff_a), reverse("reports:community", args=[w.B.id]), status=404)
    get(client_for(w.staff_a), reverse("reports:grid", args=[w.B1.id]), status=404)
    get(client_for(w.staff_a), reverse("reports:community", args=[999999]), status=404)


def test_home_lists_what_each_may_open(october: SimpleNamespace) -> None:
    w = october
    html = get(client_for(w.street_admin), reverse("reports:home"))
    assert reverse("reports:street", args=[w.S.id]) in html
    assert reverse("reports:community", args=[w.A.id]) in html and reverse("reports:community", args=[w.B.id]) in html
    assert reverse("reports:community", args=[w.C.id]) not in html
    html = get(client_for(w.grid_worker_a1), reverse("reports:home"))
    assert reverse("reports:grid", args=[w.A1.id]) in html
    assert reverse("reports:community", args=[w.A.id]) in html
    assert "/reports/street/" not in html
    get(client_for(w.resident_a1), reverse("reports:home"), status=403)


def test_names_are_escaped_in_pages_and_charts(october: SimpleNamespace) -> None:
    w = october
    w.A1.name = "<script>alert(1)</script>"
    w.A1.save()
    w.B.name = "<img src=x onerror=alert(1)>"
    w.B.save()
    html = get(client_for(w.staff_a), reverse("reports:community", args=[w.A.id]))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    html = get(client_for(w.street_admin), reverse("reports:street", args=[w.S.id]))
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_a_community_without_history_renders(october: SimpleNamespace) -> None:
    html = get(client_for(october.staff_b), reverse("reports:community", args=[october.B.id]))
    assert by_testid(html, "closed-volunteers") == "—"  # no closed month in its history yet
    assert by_testid(html, "running-satisfaction_rate") == "—"


def test_dashboards_read_inside_replica_reads(october: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    w = october
    entered: list[str] = []
    real = views_dashboards.replica_reads

    @contextmanager
    def spy() -> Iterator[str]:
        with real() as alias:
            entered.append(alias)
            yield alias

    monkeypatch.setattr(views_dashboards, "replica_reads", spy)
    get(client_for(w.staff_a), reverse("reports:community", args=[w.A.id]))
    get(client_for(w.staff_a), reverse("reports:grid", args=[w.A1.id]))
    get(client_for(w.street_admin), reverse("reports:street", args=[w.S.id]))
    get(client_for(w.street_admin), reverse("reports:home"))
    assert len(entered) == 4
