"""The printed notice (A4 PDF) and the figures workbook (.xlsx) of a published month."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from linli.common.testing import client_for
from linli.org.access import actor_for
from linli.reports import notice, services
from linli.reports.models import Disclosure
from linli.reports.testing import AFTER, OCTOBER, at, make_october

pytestmark = pytest.mark.django_db
SHOTS = Path("/tmp/shots")


@pytest.fixture
def published(world: SimpleNamespace) -> tuple[SimpleNamespace, Disclosure]:
    w = make_october(world)
    with at(AFTER):
        d = services.disclosure_publish(
            actor=actor_for(w.staff_a), community=w.A, month=OCTOBER, idempotency_key="notice"
        ).disclosure
    return w, d


def test_root_groups_of_eight() -> None:
    root = "0123456789abcdef" * 4
    groups = notice.root_groups(root)
    assert len(groups) == 8 and all(len(g) == 8 for g in groups) and "".join(groups) == root
    assert notice.rate_text(None) == "—" and notice.rate_text(50.0) == "50%" and notice.rate_text(66.7) == "66.7%"


def test_pdf_is_a4_not_blank_and_says_the_figures(published, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), "poppler-utils is missing"
    w, d = published
    response = client_for(None).get(reverse("reports:public_pdf", args=[w.A.code, "2026-10"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    info = (
        subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout if shutil.which("pdfinfo") else ""
    )
    if info:
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
        assert 1 <= pages <= 2, "the notice should fit one or two A4 pages"

    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert pngs, "pdftoppm wrote no page image"
    with Image.open(pngs[0]) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert (width, height) == pytest.approx((496, 702), abs=3)  # A4 at 60 dpi
        dark = sum(gray.histogram()[:160])
    assert dark / (width * height) > 0.02, "the first page is (nearly) blank"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pngs[0], SHOTS / "disclosure-pdf-page1.png")
    keep = Path(settings.BASE_DIR) / "var" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(pngs[0], keep / "disclosure-pdf-page1.png")

    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert w.A.name in text and "王*英" in text and "王秀英" not in text
    assert "环境清扫" in text and "大米" in text
    root = d.seal.merkle_root
    assert " ".join(notice.root_groups(root)) in flat  # the seal, readable aloud in groups of 8
    assert d.digest[:32] in text.replace("\n", "").replace(" ", "")
    assert f"community={w.A.code}" in flat and "month=2026-10" in flat


def test_xlsx_has_one_sheet_per_part_with_numbers(published) -> None:
    w, d = published
    response = client_for(None).get(reverse("reports:public_xlsx", args=[w.A.code, "2026-10"]))
    assert response.status_code == 200 and response["Content-Type"] == notice.XLSX
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert len(wb.sheetnames) == 8
    points = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    numbers = [r[1] for r in points[1:]]
    assert numbers[:6] == [20, 28, 15, 0, 0, 33] and all(isinstance(n, int) for n in numbers)
    rules = [list(r) for r in wb.worksheets[2].iter_rows(values_only=True)]
    assert ["志愿服务", "环境清扫", 15, 2, 2] in rules
    orders = {r[0]: r[1] for r in wb.worksheets[5].iter_rows(min_row=2, values_only=True)}
    assert 50.0 in orders.values() and 100.0 in orders.values()  # rates as numbers, not text
    seal = {r[0]: r[1] for r in wb.worksheets[7].iter_rows(min_row=2, values_only=True)}
    assert d.seal.merkle_root in seal.values() and d.digest in seal.values()


def test_an_earlier_revision_has_its_own_pdf(published) -> None:
    w, _first = published
    with at(AFTER):
        services.disclosure_publish(
            actor=actor_for(w.staff_a), community=w.A, month=OCTOBER, idempotency_key="again", reason="更正"
        )
    url = reverse("reports:public_pdf", args=[w.A.code, "2026-10"])
    old = client_for(None).get(url + "?revision=1")
    assert old.status_code == 200 and "r1.pdf" in old["Content-Disposition"]
    assert "r2.pdf" in client_for(None).get(url)["Content-Disposition"]
