"""Pure rules about people and places: phone numbers, masking, hierarchy shape. No database here."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import TypeVar

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")

K = TypeVar("K", bound=Hashable)


def normalize_phone(raw: str) -> str:
    """Canonical form of a Chinese phone number, or "" when it is not one.

    Accepts mobile numbers (with or without +86 / 0086 and separators) and landlines with their area code.
    """
    value = _SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    if value.startswith("86") and len(value) == 13:
        value = value[2:]
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return value
    return ""


def is_mobile(phone: str) -> bool:
    return bool(_MOBILE.match(phone))


def mask_phone(phone: str) -> str:
    """138****1234: enough to recognise one's own number, not enough to call a stranger."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return phone[:1] + "*" * (len(phone) - 1)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str) -> str:
    """张*和 / 张* / J*** Smith: the family name and, for three or more characters, the last one."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name:  # Latin names: keep the first letter of each part
        return " ".join(part[:1] + "*" * (len(part) - 1) for part in name.split())
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_address(address: str) -> str:
    """Keep the compound and building, hide the room: '兴庆小区3号楼2单元502' -> '兴庆小区3号楼****'."""
    address = (address or "").strip()
    marker = address.find("楼")
    if marker > 0:
        return address[: marker + 1] + "****"
    return address[: max(1, len(address) // 2)] + "****"


def would_cycle(node: K, new_parent: K | None, parent_of: Callable[[K], K | None]) -> bool:
    """True when making `new_parent` the parent of `node` closes a loop (walks up from the new parent)."""
    seen: set[K] = set()
    current = new_parent
    while current is not None:
        if current == node or current in seen:
            return True
        seen.add(current)
        current = parent_of(current)
    return False


def age_in(year: int, birth_year: int | None) -> int | None:
    return None if birth_year is None else year - birth_year
