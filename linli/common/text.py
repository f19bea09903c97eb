"""Free text from forms and API bodies, checked the same way everywhere."""

from __future__ import annotations

from django.utils.translation import gettext as _

from linli.common.errors import Invalid


def clean_text(value: str | None, *, field_name: str, max_length: int, required: bool = False) -> str:
    """Stripped text, or Invalid naming the field: a NUL byte (PostgreSQL refuses it), empty when required, too long."""
    text = (value or "").strip()
    if "\x00" in text:
        raise Invalid(_("The text contains a character that cannot be stored."), field=field_name)
    if required and not text:
        raise Invalid(_("This field is required."), code="required", field=field_name)
    if len(text) > max_length:
        raise Invalid(_("At most %(n)s characters, please.") % {"n": max_length}, code="too_long", field=field_name)
    return text
