"""Evidence photos of claims, cleaned by `linli.common.images` and kept in the points app's own table."""

from __future__ import annotations

import hashlib
from typing import Any

from linli.common.images import PhotoInvalid, max_bytes, read_upload, reencode
from linli.points.models import Photo

__all__ = ["PhotoInvalid", "max_bytes", "photo_store", "reencode"]


def photo_store(*, community_id: int, upload: Any, user: Any) -> Photo:
    """Store an upload as evidence. Call inside the caller's transaction."""
    data = read_upload(upload)
    digest = hashlib.sha256(data).hexdigest()
    jpeg, width, height = reencode(data)
    return Photo.objects.create(
        community_id=community_id,
        sha256=digest,
        data=jpeg,
        width=width,
        height=height,
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
