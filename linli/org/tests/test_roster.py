"""Roster import/export: file formats, row errors with Excel row numbers, all-or-nothing, scale, access."""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from linli.common.errors import Forbidden, Invalid, NotFound
from linli.common.models import AuditEvent
from linli.common.testing import client_for
from linli.org import roster
from linli.org.access import actor_for
from linli.org.models import Household, HouseholdMember, Person

KEYS = [c.key for c in roster.COLUMNS]


def row(**values: object) -> list[object]:
    """A row in template order; anything not given is blank."""
    base: dict[str, object] = {"compound": "兴庆小区", "building": "1号楼", "unit": "1单元", "room": "601"}
    base.update(values)
    return [base.get(k, "") for k in KEYS]


def xlsx(rows: list[list[object]], headers: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.append(headers or roster.HEADERS)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(
    rows: list[list[object]], encoding: str = "utf-8-sig", headers: list[str] | None = None
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers or roster.HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def run(
    world, data: bytes, name: str = "roster.xlsx", user=None, community=None, **kw
) -> roster.ImportResult:
    return roster.roster_import(
        actor=actor_for(user or world.staff_a),
        community=community or world.A,
        upload_name=name,
        data=data,
        **kw,
    )


def errors_of(excinfo: pytest.ExceptionInfo[Invalid]) -> list[dict]:
    return excinfo.value.details["errors"]


def counts() -> tuple[int, int, int]:
    return Household.objects.count(), Person.objects.count(), HouseholdMember.objects.count()


# --- pure parts -------------------------------------------------------------------------------------------


def test_clean_row_maps_chinese_values():
    columns = {k: i for i, k in enumerate(KEYS)}
    cells = [
        roster.cell_text(v)
        for v in row(
            name="张三",
            phone="138 0000 1111",
            gender="女",
            birth_year=1956.0,
            relation="配偶",
            is_owner="是",
            tags="党员、退役军人，低保",
            floor_area="75.5㎡",
        )
    ]
    data, problems = roster.clean_row(2, cells, columns)
    assert problems == []
    assert data is not None
    assert (data.phone, data.gender, data.birth_year, data.relation, data.is_owner) == (
        "13800001111",
        "F",
        1956,
        "spouse",
        True,
    )
    assert data.tags == ",party_member,veteran,low_income,"
    assert data.floor_area == Decimal("75.50")


def test_clean_row_reports_every_bad_cell():
    columns = {k: i for i, k in enumerate(KEYS)}
    cells = [
        roster.cell_text(v)
        for v in row(
            name="",
            gender="X",
            birth_year="1850",
            relation="邻居",
            is_owner="maybe",
            tags="富豪",
            floor_area="-3",
        )
    ]
    data, problems = roster.clean_row(7, cells, columns)
    assert data is None
    assert {k for k, _m in problems} == {
        "name",
        "gender",
        "birth_year",
        "relation",
        "is_owner",
        "tags",
        "floor_area",
    }


def test_full_width_digits_are_read():
    columns = {k: i for i, k in enumerate(KEYS)}
    data, problems = roster.clean_row(
        2, row(name="甲", phone="１３８００００１１１１", floor_area="７５．５"), columns
    )
    assert problems == [] and data is not None
    assert (data.phone, data.floor_area) == ("13800001111", Decimal("75.50"))


def test_cell_text():
    assert roster.cell_text(13800000001.0) == "13800000001"
    assert roster.cell_text(75.5) == "75.5"
    assert roster.cell_text(None) == ""
    assert roster.cell_text("  502 ") == "502"


def test_english_headers_and_a_title_row_are_accepted(world):
    headers = ["building", "Room", "Name", "Phone", "compound", "unit"]
    data = xlsx([["1号楼", "602", "Amy", "13811112222", "兴庆小区", "1单元"]], headers=headers)
    wb = load_workbook(io.BytesIO(data))
    wb.active.insert_rows(1)
    wb.active["A1"] = "大兴东路社区居民花名册"
    out = io.BytesIO()
    wb.save(out)
    result = run(world, out.getvalue())
    assert result.people_created == 1
    assert Person.objects.get(phone="13811112222").name == "Amy"


# --- templates --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_template_round_trip_through_the_page(world):
    client = client_for(world.staff_a)
    response = client.get(reverse("roster:template_xlsx"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["花名册", "说明"]
    sheet = wb["花名册"]
    assert [c.value for c in sheet[1]] == roster.HEADERS
    assert [c.value for c in sheet[2]][6] == "示例张三"
    assert any(r[0] == "楼栋" for r in wb["说明"].iter_rows(values_only=True))
    # fill it in below the example row (which is ignored), as staff would
    sheet.append(
        row(
            room="701",
            name="陈大妈",
            phone="13912345678",
            gender="女",
            birth_year=1948,
            relation="户主",
            is_owner="是",
            tags="独居老人",
            floor_area=62,
        )
    )
    sheet.append(row(room="701", name="陈小明", relation="子女", is_owner="否"))
    sheet.append(row(compound="", building="2号楼", room="105", name="周师傅", phone="029-88881234"))
    out = io.BytesIO()
    wb.save(out)
    upload = io.BytesIO(out.getvalue())
    upload.name = "花名册.xlsx"
    response = client.post(reverse("roster:index"), {"community": world.A.id, "file": upload})
    assert response.status_code == 200, response.content.decode()[:2000]
    result = response.context["result"]
    assert (result.households_created, result.people_created) == (2, 3)
    assert not Person.objects.filter(name="示例张三").exists()
    elder = Person.objects.get(name="陈大妈")
    assert elder.tag_list == ["elder_alone"] and elder.gender == "F" and elder.birth_year == 1948
    member = elder.memberships.get()
    assert member.is_owner and member.relation == "head"
    assert member.household.floor_area == Decimal("62.00")
    assert member.household.address == "兴庆小区 1号楼1单元701"
    assert Person.objects.get(name="周师傅").phone == "02988881234"
    event = AuditEvent.objects.get(action="roster.import")
    assert event.data["people_created"] == 3 and event.community_id == world.A.id


@pytest.mark.django_db
def test_template_csv_opens_in_excel(world):
    response = client_for(world.staff_a).get(reverse("roster:template_csv"))
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == roster.HEADERS
    # the untouched template imports as "nothing to do" rather than as a person called 示例张三
    with pytest.raises(Invalid) as excinfo:
        run(world, response.content, name="template.csv")
    assert excinfo.value.code == "empty"


# --- encodings and file problems --------------------------------------------------------------------------


def test_gbk_csv_from_chinese_excel_is_accepted(world):
    data = csv_bytes([row(name="欧阳娜娜", phone="13700001111", tags="党员")], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = run(world, data, name="花名册.csv")
    assert result.people_created == 1
    assert Person.objects.get(phone="13700001111").name == "欧阳娜娜"


def test_utf8_bom_csv_is_accepted(world):
    data = csv_bytes([row(name="司马光", phone="13700002222")], encoding="utf-8-sig")
    assert run(world, data, name="r.csv").people_created == 1
    assert Person.objects.filter(name="司马光").exists()


def test_utf16_tab_separated_text_is_accepted(world):
    text = "\t".join(roster.HEADERS) + "\r\n" + "\t".join(str(v) for v in row(name="诸葛亮")) + "\r\n"
    assert run(world, text.encode("utf-16"), name="r.txt").people_created == 1


def test_unreadable_encoding_is_a_clear_error(world):
    data = b"\xff\xff\x81\x30,\x80\x80\xff\n"
    with pytest.raises(Invalid) as excinfo:
        run(world, data, name="r.csv")
    assert excinfo.value.code == "encoding"
    assert "CSV UTF-8" in str(excinfo.value.message)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("r.xlsx", b"this is not a zip", "file_invalid"),
        ("r.pdf", b"%PDF-1.4", "file_type"),
        ("r.xls", b"\xd0\xcf\x11\xe0", "file_type"),
        ("r.csv", b"", "empty"),
        ("r.csv", b"\r\n\r\n,,,\r\n", "empty"),
        ("r.csv", ",".join(roster.HEADERS).encode(), "empty"),
    ],
)
def test_bad_files_are_refused_with_a_code(world, name, data, code):
    before = counts()
    with pytest.raises(Invalid) as excinfo:
        run(world, data, name=name)
    assert excinfo.value.code == code
    assert errors_of(excinfo)[0]["message"]
    assert counts() == before


def test_missing_columns_are_named_in_one_error(world):
    headers = ["小区", "楼栋", "单元", "手机"]
    with pytest.raises(Invalid) as excinfo:
        run(world, csv_bytes([["兴庆小区", "1号楼", "1单元", "13800000000"]], headers=headers), name="r.csv")
    assert excinfo.value.code == "missing_columns"
    assert len(errors_of(excinfo)) == 1
    assert "房号" in str(excinfo.value.message) and "姓名" in str(excinfo.value.message)


def test_over_the_row_limit_is_refused_before_any_work(world, settings):
    settings.LINLI_IMPORT_MAX_ROWS = 5
    data = xlsx([row(room=str(900 + i), name=f"人{i}") for i in range(6)])
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    assert excinfo.value.code == "too_many_rows"
    assert "5" in str(excinfo.value.message)
    assert run(world, xlsx([row(room=str(900 + i), name=f"人{i}") for i in range(5)])).people_created == 5


# --- row errors -------------------------------------------------------------------------------------------


def test_bad_phone_is_reported_with_its_excel_row_number(world):
    data = xlsx([row(name="甲", phone="13800005555"), row(name="乙", phone="12345"), row(name="丙")])
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    assert excinfo.value.code == "roster_invalid"
    assert errors_of(excinfo) == [{"row": 3, "column": "手机", "message": errors_of(excinfo)[0]["message"]}]
    assert "12345" in errors_of(excinfo)[0]["message"]


def test_row_numbers_count_blank_rows_like_excel(world):
    text = (
        ",".join(roster.HEADERS)
        + "\r\n"
        + ",".join(map(str, row(name="甲")))
        + "\r\n\r\n"
        + ",".join(map(str, row(name="乙", gender="?")))
        + "\r\n"
    )
    with pytest.raises(Invalid) as excinfo:
        run(world, text.encode(), name="r.csv")
    assert [e["row"] for e in errors_of(excinfo)] == [4]


def test_all_errors_are_reported_in_one_upload(world):
    data = xlsx([row(name="甲", phone="123"), row(name="乙"), row(name="甲", gender="男")])
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    assert [(e["row"], e["column"]) for e in errors_of(excinfo)] == [(2, "手机"), (4, "姓名")]


def test_same_person_twice_in_one_household(world):
    data = xlsx([row(name="张伟"), row(name="李娜"), row(name="张伟", gender="男")])
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    [error] = errors_of(excinfo)
    assert error["row"] == 4 and error["column"] == "姓名"
    assert "2" in error["message"] and "4" in error["message"]


def test_namesakes_with_different_phones_are_two_people(world):
    data = xlsx([row(name="张伟", phone="13911110001"), row(name="张伟", phone="13911110002")])
    assert run(world, data).people_created == 2


def test_unknown_building_and_compound(world):
    data = xlsx([row(building="99号楼", name="甲"), row(compound="不存在小区", name="乙"), row(name="丙")])
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    assert [(e["row"], e["column"]) for e in errors_of(excinfo)] == [(2, "楼栋"), (3, "楼栋")]
    assert "99号楼" in errors_of(excinfo)[0]["message"]


def test_blank_compound_finds_a_building_that_has_one_when_unambiguous(world):
    assert run(world, xlsx([row(compound="", name="甲")])).people_created == 1
    assert Person.objects.get(name="甲").memberships.get().household.building == world.bA1


def test_building_of_another_community_is_unknown(world):
    with pytest.raises(Invalid) as excinfo:
        run(world, xlsx([row(compound="", building="府西1号楼", name="甲")]))
    assert errors_of(excinfo)[0]["column"] == "楼栋"


def test_phone_of_another_person_in_the_community(world):
    data = xlsx([row(name="冒名", phone="13800000002")])  # 李建华's phone
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    [error] = errors_of(excinfo)
    assert error["row"] == 2 and error["column"] == "手机" and "李建华" in error["message"]


def test_phone_given_to_two_people_in_the_file(world):
    data = xlsx([row(name="甲", phone="13900000001"), row(room="602", name="乙", phone="+86 139-0000-0001")])
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    [error] = errors_of(excinfo)
    assert error["row"] == 3 and "2" in error["message"]


def test_phone_of_a_person_in_another_community_is_fine(world):
    assert run(world, xlsx([row(name="赵德明", phone="13800000003")])).people_created == 1  # pB1 lives in B


def test_nothing_is_written_when_one_row_of_fifty_is_bad(world):
    rows = [row(room=str(1000 + i), name=f"居民{i}", phone=f"1390000{i:04d}") for i in range(50)]
    rows[37] = row(room="1037", name="居民37", birth_year="明年")
    before, audits = counts(), AuditEvent.objects.count()
    with pytest.raises(Invalid) as excinfo:
        run(world, xlsx(rows))
    assert [(e["row"], e["column"]) for e in errors_of(excinfo)] == [(39, "出生年份")]
    assert counts() == before
    assert AuditEvent.objects.count() == audits
    assert "1" in str(excinfo.value.message)


def test_dry_run_counts_but_writes_nothing(world):
    before = counts()
    result = run(world, xlsx([row(name="甲"), row(name="乙")]), dry_run=True)
    assert (result.dry_run, result.households_created, result.people_created) == (True, 1, 2)
    assert counts() == before


# --- matching and updating --------------------------------------------------------------------------------


def test_existing_household_and_people_are_updated_not_duplicated(world):
    data = xlsx(
        [
            row(room="101", name="王秀英", phone="13800000001", floor_area="80", tags="党员", is_owner="是"),
            row(room="101", name="王老伯", phone="13600000009", relation="父母"),  # gets a phone
        ]
    )
    before = counts()
    result = run(world, data)
    assert (result.households_created, result.households_updated) == (0, 1)
    assert (result.people_created, result.people_updated) == (0, 2)
    assert counts() == before
    world.hA1.refresh_from_db()
    world.pA1b.refresh_from_db()
    world.pA1.refresh_from_db()
    assert world.hA1.floor_area == Decimal("80.00")
    assert world.hA1.address == "兴庆小区 1号楼1单元101"  # blank address kept
    assert world.pA1b.phone == "13600000009"
    assert world.pA1b.memberships.get().relation == "parent"
    assert world.pA1.tag_list == ["party_member"] and world.pA1.birth_year == 1960  # blank cells keep values
    # and again: nothing left to change
    again = run(world, data)
    assert not again.changed


def test_owner_of_two_flats_is_one_person(world):
    data = xlsx(
        [
            row(room="801", name="钱多多", phone="13955556666", is_owner="是"),
            row(compound="", building="2号楼", room="301", name="钱多多", phone="13955556666", is_owner="是"),
            row(room="202", name="李建华", phone="13800000002", is_owner="是"),  # stored person, second flat
        ]
    )
    result = run(world, data)
    assert result.people_created == 1 and result.people_updated == 1
    assert Person.objects.get(phone="13955556666").memberships.count() == 2
    assert world.pA2.memberships.count() == 2


def test_conflicting_values_for_the_same_household(world):
    data = xlsx([row(name="甲", floor_area="70"), row(name="乙", floor_area="71")])
    with pytest.raises(Invalid) as excinfo:
        run(world, data)
    assert [(e["row"], e["column"]) for e in errors_of(excinfo)] == [(3, "建筑面积")]


def test_ten_thousand_rows_import_fast_and_reimport_creates_nothing(world):
    rows = []
    for i in range(10_000):
        building = ("兴庆小区", "1号楼") if i % 2 else ("", "2号楼")
        rows.append(
            row(
                compound=building[0],
                building=building[1],
                unit=f"{i % 6 + 1}单元",
                room=str(10_000 + i // 4),
                name=f"居民{i}",
                phone=f"139{i:08d}",
                gender="男" if i % 2 else "女",
                birth_year=1940 + i % 60,
                relation="户主" if i % 4 == 0 else "子女",
                is_owner="是" if i % 4 == 0 else "否",
                tags="党员" if i % 10 == 0 else "",
                floor_area=str(50 + i % 90),
            )
        )
    data = xlsx(rows)
    before_households, before_people, _m = counts()
    started = time.perf_counter()
    result = run(world, data)
    elapsed = time.perf_counter() - started
    print(f"\nroster import: 10000 rows in {elapsed:.2f} s")
    assert result.rows == 10_000 and result.people_created == 10_000
    assert Person.objects.count() == before_people + 10_000
    assert Household.objects.count() == before_households + result.households_created
    assert elapsed < 60
    started = time.perf_counter()
    again = run(world, data)
    print(f"roster re-import: 10000 rows in {time.perf_counter() - started:.2f} s")
    assert not again.changed
    assert Person.objects.count() == before_people + 10_000


# --- permissions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "error"),
    [
        ("grid_worker_a1", Forbidden),
        ("grid_chief_a1", Forbidden),
        ("resident_a1", Forbidden),
        ("auditor_a", Forbidden),
        ("staff_b", NotFound),
        ("staff_c", NotFound),
    ],
)
def test_service_refuses_everyone_but_staff(world, user, error):
    before = counts()
    with pytest.raises(error):
        run(world, xlsx([row(name="甲")]), user=getattr(world, user))
    assert counts() == before


def test_street_admin_may_import_in_their_street(world):
    assert run(world, xlsx([row(name="甲")]), user=world.street_admin).people_created == 1
    with pytest.raises(NotFound):
        run(
            world,
            xlsx([row(building="衙门1号楼", compound="", name="甲")]),
            user=world.street_admin,
            community=world.C,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["grid_worker_a1", "resident_a1", "steward_a1", "merchant_op_a"])
def test_page_refuses_non_staff(world, user):
    client = client_for(getattr(world, user))
    assert client.get(reverse("roster:index")).status_code == 403
    upload = io.BytesIO(xlsx([row(name="甲")]))
    upload.name = "r.xlsx"
    response = client.post(reverse("roster:index"), {"community": world.A.id, "file": upload})
    assert response.status_code in {403, 404}
    assert client.get(reverse("roster:export") + f"?community={world.A.id}").status_code in {403, 404}
    assert client.get(reverse("roster:template_xlsx")).status_code == 403
    assert not Person.objects.filter(name="甲").exists()


@pytest.mark.django_db
def test_page_hides_other_communities(world):
    client = client_for(world.staff_b)
    assert client.get(reverse("roster:index") + f"?community={world.A.id}").status_code == 404
    assert client.get(reverse("roster:export") + f"?community={world.A.id}").status_code == 404
    upload = io.BytesIO(xlsx([row(name="甲")]))
    upload.name = "r.xlsx"
    assert client.post(reverse("roster:index"), {"community": world.A.id, "file": upload}).status_code == 404
    assert client.get(reverse("roster:index") + "?community=abc").status_code == 404


@pytest.mark.django_db
def test_page_needs_login(world):
    response = client_for(None).get(reverse("roster:index"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_page_shows_row_errors_in_a_table(world):
    client = client_for(world.staff_a)
    page = client.get(reverse("roster:index"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="file"' in body and reverse("roster:template_csv") in body
    upload = io.BytesIO(
        csv_bytes([row(name="甲", phone="123"), row(name="乙", building="无此楼")], encoding="gbk")
    )
    upload.name = "花名册.csv"
    response = client.post(reverse("roster:index"), {"community": world.A.id, "file": upload})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="roster-errors"' in body and "error-box" in body
    assert "<td data-label" in body and "无此楼" in body
    assert [e["row"] for e in response.context["error"]["errors"]] == [2, 3]


@pytest.mark.django_db
def test_page_without_a_file_and_with_a_bad_file(world):
    client = client_for(world.staff_a)
    response = client.post(reverse("roster:index"), {"community": world.A.id})
    assert response.status_code == 400 and response.context["error"]["code"] == "file_missing"
    upload = io.BytesIO(b"\xff\xff\x81\x30\x80\x80")
    upload.name = "r.csv"
    response = client.post(reverse("roster:index"), {"community": world.A.id, "file": upload})
    assert response.status_code == 400 and response.context["error"]["code"] == "encoding"


@pytest.mark.django_db
def test_street_admin_picks_a_community(world):
    client = client_for(world.street_admin)
    page = client.get(reverse("roster:index"))
    assert page.status_code == 200 and page.context["community"] is None
    assert f"?community={world.B.id}" in page.content.decode()
    assert client.get(reverse("roster:index") + f"?community={world.B.id}").context["community"] == world.B
    assert client.get(reverse("roster:index") + f"?community={world.C.id}").status_code == 404


# --- export -----------------------------------------------------------------------------------------------


def _sheet_rows(content: bytes) -> list[list[object]]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.django_db
def test_export_contents(world):
    response = client_for(world.staff_a).get(reverse("roster:export") + f"?community={world.A.id}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="roster-dxdl-')
    rows = _sheet_rows(response.content)
    assert rows[0] == roster.HEADERS
    by_name = {r[6]: dict(zip(KEYS, r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {"王秀英", "王老伯", "李建华"}
    assert by_name["王秀英"]["phone"] == "13800000001"
    assert by_name["王秀英"]["compound"] == "兴庆小区" and by_name["王秀英"]["room"] == "101"
    assert by_name["王秀英"]["relation"] == "户主" and by_name["王秀英"]["is_owner"] == "是"
    assert by_name["李建华"]["compound"] in (None, "")
    assert AuditEvent.objects.filter(action="roster.export", community_id=world.A.id).exists()


@pytest.mark.django_db
def test_export_masks_phones_for_the_auditor(world):
    client = client_for(world.auditor_a)
    page = client.get(reverse("roster:index"))
    assert page.status_code == 200
    assert 'name="file"' not in page.content.decode()  # may export, may not import
    response = client.get(reverse("roster:export") + f"?community={world.A.id}")
    assert response.status_code == 200
    phones = {r[6]: r[7] for r in _sheet_rows(response.content)[1:]}
    assert phones["王秀英"] == "138****0001"
    assert "13800000001" not in str(_sheet_rows(response.content))


def test_export_reimports_cleanly(world):
    run(
        world,
        csv_bytes(
            [
                row(
                    room="701",
                    name="陈大妈",
                    phone="13912345678",
                    gender="女",
                    birth_year=1948,
                    relation="户主",
                    is_owner="是",
                    tags="独居老人、低保",
                    floor_area="62.5",
                ),
                row(room="701", name='=HYPERLINK("http://x")', relation="其他"),
            ]
        ),
        name="r.csv",
    )
    content = roster.roster_export(actor=actor_for(world.staff_a), community=world.A)
    rows = _sheet_rows(content)
    assert any(r[6] == '=HYPERLINK("http://x")' for r in rows)  # stored as text, never a formula
    before = counts()
    result = run(world, content, name="export.xlsx")
    assert not result.changed, result
    assert result.rows == len(rows) - 1
    assert counts() == before


def test_export_refused_outside_scope(world):
    with pytest.raises(NotFound):
        roster.roster_export(actor=actor_for(world.staff_b), community=world.A)
    with pytest.raises(Forbidden):
        roster.roster_export(actor=actor_for(world.grid_worker_a1), community=world.A)
