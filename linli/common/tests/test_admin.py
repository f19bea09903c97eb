from django.contrib import admin

from linli.common.testing import client_for
from linli.org.models import Person, User


def test_admin_is_read_only(world):
    superuser = User.objects.create_superuser(phone="19900009999", password="x-Strong-pass-1", name="运维")
    c = client_for(superuser)
    assert c.get("/admin/org/person/").status_code == 200
    assert c.get(f"/admin/org/person/{world.pA1.id}/change/").status_code == 200  # view only
    assert c.get("/admin/org/person/add/").status_code == 403
    c.post(f"/admin/org/person/{world.pA1.id}/change/", {"name": "改了"})
    assert Person.objects.get(pk=world.pA1.pk).name == "王秀英"
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"org", "common", "ledger"}:
            assert not model_admin.has_add_permission(None), model


def test_admin_closed_to_non_staff(world):
    assert client_for(world.staff_a).get("/admin/").status_code == 302
