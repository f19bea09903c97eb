from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from linli.common.testing import make_world


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    return make_world()


@pytest.fixture(autouse=True)
def _english_off(settings: Any) -> None:
    # tests see the default language (zh-hans) unless they switch
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    # argon2 is the production hasher (tested in common/tests/test_settings.py); tests log in hundreds of times
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
