"""The rules catalogue (editor, templates, .xlsx import/export, published page) and the leaderboards."""

from django.urls import URLPattern, path

from linli.points import views_rules as v

urlpatterns: list[URLPattern] = [
    # staff: the editor
    path("rules/", v.rules, name="rules"),
    path("rules/areas/new/", v.area_create, name="area_create"),
    path("rules/areas/<int:pk>/", v.area_edit, name="area_edit"),
    path("rules/new/", v.rule_create, name="rule_create"),
    path("rules/<int:pk>/", v.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/retire/", v.rule_retire, name="rule_retire"),
    path("rules/templates/", v.catalogue_templates, name="catalogue_templates"),
    path("rules/import/", v.catalogue_import, name="catalogue_import"),
    path("rules/export.xlsx", v.catalogue_export, name="catalogue_export"),
    # people who work in the community: the leaderboard with the names they may see
    path("leaderboard/", v.leaderboard, name="leaderboard"),
    # published, no login: the catalogue and the leaderboard (names masked) of one community
    path("c/<slug:code>/rules/", v.catalogue_public, name="catalogue_public"),
    path("c/<slug:code>/leaderboard/", v.leaderboard_public, name="leaderboard_public"),
]
