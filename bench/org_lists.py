"""Latency of the organisation lists on a SEEDS.md 004-sized community (5,156 households, ~13,000 people).

Prints JSON. Each figure is the median of N requests through Django's test client, beside a reference measured in the
same run on the same machine: the sign-in page, which renders the same page shell with no query. The ratio is what to
compare between machines and runs.

    .venv/bin/python bench/org_lists.py            # a throwaway SQLite file
    DATABASE_URL=postgres://... .venv/bin/python bench/org_lists.py   # an EMPTY PostgreSQL database
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
os.environ.setdefault("LINLI_VAR_DIR", tempfile.mkdtemp(prefix="linli-bench-"))

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))


def median_ms(client: Client, url: str, params: dict[str, str]) -> float:
    client.get(url, params)
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, params, response.status_code)
    return round(statistics.median(samples), 2)


def main() -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    from linli.common.testing import make_large_community, make_world
    from linli.org.models import Grid, Role, RoleAssignment

    build_start = time.perf_counter()
    world = make_world()
    big = make_large_community(world.S, households=int(os.environ.get("BENCH_HOUSEHOLDS", "5156")))
    build_s = time.perf_counter() - build_start
    RoleAssignment.objects.create(user=world.staff_a, role=Role.COMMUNITY_STAFF, community=big)
    RoleAssignment.objects.create(user=world.grid_worker_a2, role=Role.GRID_WORKER,
                                  grid=Grid.objects.filter(community=big).first())
    reference = median_ms(Client(), reverse("login"), {})
    cases = {
        "people_first_page": ("org:people", {}),
        "people_search_name": ("org:people", {"q": "王秀"}),
        "people_search_phone": ("org:people", {"q": "19900001"}),
        "people_tag_filter": ("org:people", {"tag": "elder_alone"}),
        "people_page_200": ("org:people", {"page": "200"}),
        "households_first_page": ("org:households", {}),
        "households_search": ("org:households", {"q": "3单元"}),
        "households_page_100": ("org:households", {"page": "100"}),
        "structure": ("org:structure", {}),
    }
    results: dict[str, dict[str, float]] = {}
    for who in ("staff_a", "grid_worker_a2"):
        client = Client()
        client.force_login(world.users[who])
        for name, (url, params) in cases.items():
            ms = median_ms(client, reverse(url), {"community": str(big.id), **params})
            results[f"{who}.{name}"] = {"ms": ms, "ratio_to_reference": round(ms / reference, 2)}
    print(json.dumps({
        "benchmark": "org_lists",
        "database": connection.vendor,
        "households": int(os.environ.get("BENCH_HOUSEHOLDS", "5156")),
        "build_seconds": round(build_s, 2),
        "repeat": REPEAT,
        "reference": {"what": "sign-in page (same shell, no query)", "ms": reference},
        "results": results,
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
