"""Pure rules: no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.org import domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812341234", "13812341234"),
        ("138 1234 1234", "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("008613812341234", "13812341234"),
        ("8613812341234", "13812341234"),
        ("029-88881234", "02988881234"),
        ("12812341234", ""),  # no mobile prefix 12
        ("1381234123", ""),  # 10 digits
        ("abc", ""),
        ("", ""),
    ],
)
def test_normalize_phone(raw, expected):
    assert domain.normalize_phone(raw) == expected


def test_is_mobile():
    assert domain.is_mobile("13812341234")
    assert not domain.is_mobile("02988881234")


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三和", "张*和"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("王", "王"), ("", ""), ("Li Ming", "L* M***")],
)
def test_mask_name(name, masked):
    assert domain.mask_name(name) == masked


def test_mask_phone():
    assert domain.mask_phone("13812341234") == "138****1234"
    assert domain.mask_phone("") == ""
    assert "8888" not in domain.mask_phone("02988881234")[3:-4]


def test_mask_address_hides_room():
    assert domain.mask_address("兴庆小区3号楼2单元502") == "兴庆小区3号楼****"
    assert "502" not in domain.mask_address("兴庆小区3号楼2单元502")


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_mobile_keeps_ends_hides_middle(phone):
    masked = domain.mask_phone(phone)
    assert masked[:3] == phone[:3] and masked[-4:] == phone[-4:] and masked[3:7] == "****"


def test_would_cycle():
    parents = {1: None, 2: 1, 3: 2}
    assert domain.would_cycle(1, 3, parents.get)  # 1 under 3, but 3 is under 1
    assert domain.would_cycle(2, 2, parents.get)
    assert not domain.would_cycle(3, 1, parents.get)
    assert not domain.would_cycle(1, None, parents.get)
