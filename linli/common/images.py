"""Uploaded photos: check that an upload is a real image of sane size, then make a clean copy.

Re-encoding drops EXIF (a phone photo carries the GPS position of the resident's home), applies the camera's
rotation, and caps the longest side at 1600 px, so a photo costs ~200 KB in the database whatever the phone.
Each app keeps its photos in its own table; this module only reads and cleans.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.common.errors import Invalid

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}  # MPO: what some phones' JPEGs decode as
LONGEST_SIDE = 1600
MAX_PIXELS = 50_000_000  # refuse decompression bombs long before Pillow's own limit


def max_bytes() -> int:
    return int(getattr(settings, "LINLI_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


class PhotoInvalid(Invalid):
    code = "photo_invalid"
    default_message = _("The photo could not be read. Please send a JPEG or PNG picture.")


def read_upload(upload: Any) -> bytes:
    size = getattr(upload, "size", None)
    limit = max_bytes()
    if size is not None and size > limit:
        raise PhotoInvalid(
            _("The photo is too large (%(mb)s MB at most).") % {"mb": limit // (1024 * 1024)},
            code="photo_too_large",
            field="photo",
        )
    data = upload.read(limit + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > limit:
        raise PhotoInvalid(
            _("The photo is too large (%(mb)s MB at most).") % {"mb": limit // (1024 * 1024)},
            code="photo_too_large",
            field="photo",
        )
    if not data:
        raise PhotoInvalid(field="photo")
    return data


def reencode(data: bytes) -> tuple[bytes, int, int]:
    """JPEG bytes, width, height of a cleaned copy; PhotoInvalid when `data` is not a usable image."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise PhotoInvalid(field="photo")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoInvalid(_("The photo has too many pixels."), code="photo_too_large", field="photo")
            probe.verify()  # checks the file's structure without decoding all of it
        with Image.open(io.BytesIO(data)) as opened:
            image: Image.Image = ImageOps.exif_transpose(opened).convert("RGB")
        image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=82, optimize=True)  # no exif= argument: metadata is dropped
        return out.getvalue(), image.width, image.height
    except PhotoInvalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise PhotoInvalid(field="photo") from None
