"""`linli report monthly` publishes and writes the notice files; `linli report refresh` stores closed months."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from linli import cli
from linli.org.models import Community
from linli.reports import services
from linli.reports.models import CommunityMonth, Disclosure
from linli.reports.testing import AFTER, OCTOBER, at, make_october

pytestmark = pytest.mark.django_db


@pytest.fixture
def october(world: SimpleNamespace) -> SimpleNamespace:
    return make_october(world)


def _run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("report", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = int(exit.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_monthly_publishes_and_writes_pdf_and_xlsx(october: SimpleNamespace, tmp_path: Path) -> None:
    args = ("monthly", "--community", october.A.code, "--month", "2026-10", "--out", str(tmp_path / "out"))
    with at(AFTER):
        code, out, err = _run(*args, "--base-url", "https://linli.example.org/")
    assert code == 0, err
    d = Disclosure.objects.get()
    assert d.published_by is None and d.revision == 1 and d.month == OCTOBER
    assert f"https://linli.example.org/disclosure/{october.A.code}/2026-10/" in out
    assert d.seal.merkle_root[:8] in out and d.seal.merkle_root[56:] in out and d.digest in out
    pdf = (tmp_path / "out" / "notice.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    wb = load_workbook(io.BytesIO((tmp_path / "out" / "figures.xlsx").read_bytes()))
    seal = {r[0]: r[1] for r in wb.worksheets[-1].iter_rows(min_row=2, values_only=True)}
    assert f"https://linli.example.org/ledger/proof/?month=2026-10&community={october.A.code}" in seal.values()
    # run again: the same disclosure, nothing new
    with at(AFTER):
        code, out, _err = _run(*args)
    assert code == 0 and "already published" in out and Disclosure.objects.count() == 1


@pytest.mark.parametrize(
    ("community", "month", "error"),
    [
        ("nowhere", "2026-10", "not_found"),
        (None, "2026-13", "month_invalid"),
        (None, "october", "month_invalid"),
        (None, "2026-11", "month_not_over"),
    ],
)
def test_monthly_refuses_with_the_reason(
    october: SimpleNamespace, tmp_path: Path, community: str | None, month: str, error: str
) -> None:
    with at(AFTER):
        code, _out, err = _run(
            "monthly", "--community", community or october.A.code, "--month", month, "--out", str(tmp_path)
        )
    assert code == 1 and err.startswith(f"{error}:")
    if error == "month_not_over":
        assert str(services.MonthNotOver.default_message) in err
    assert not Disclosure.objects.exists() and not (tmp_path / "notice.pdf").exists()


def test_refresh_stores_the_last_closed_month_for_every_community(october: SimpleNamespace) -> None:
    with at(AFTER):
        code, out, err = _run("refresh")
    assert code == 0, err
    rows = {r.community_id: r for r in CommunityMonth.objects.filter(month=OCTOBER)}
    assert set(rows) == set(Community.objects.values_list("pk", flat=True)) and october.B.pk in rows
    assert rows[october.A.pk].figures["points"]["earned"] == 28
    assert f"{october.A.code} 2026-10 earned 28 spent 15" in out
    # one community and an explicit month; running it again replaces the stored figures
    with at(AFTER):
        code, out, _err = _run("refresh", "--community", october.A.code, "--month", "2026-09")
        code2, _out2, _err2 = _run("refresh", "--community", october.A.code, "--month", "2026-09")
    assert code == 0 and code2 == 0 and "1 month stored" in out
    assert (
        CommunityMonth.objects.get(community=october.A, month=services.month_from_text("2026-09")).figures["points"][
            "circulation_end"
        ]
        == 20
    )


def test_refresh_refuses_a_running_month_and_an_unknown_community(october: SimpleNamespace) -> None:
    with at(AFTER):
        code, _out, err = _run("refresh", "--month", "2026-11")
        assert code == 1 and err.startswith("month_not_over:")
        code, _out, err = _run("refresh", "--community", "nowhere")
        assert code == 1 and err.startswith("not_found:")


def test_a_subcommand_is_required(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("report")


@pytest.mark.django_db(transaction=True)  # Django closes the connection after a command run from argv
def test_the_linli_console_script_reaches_refresh(transactional_db: None, october: SimpleNamespace, capsys) -> None:
    with at(AFTER):
        assert cli.main(["report", "refresh", "--community", october.A.code]) == 0
    assert "1 month stored" in capsys.readouterr().out
