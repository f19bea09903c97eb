from django.contrib.auth import views as auth_views
from django.urls import include, path

from linli.org import views

org_patterns = [
    path("structure/", views.structure, name="structure"),
    path("grids/new/", views.grid_edit, name="grid_create"),
    path("grids/<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("compounds/new/", views.compound_edit, name="compound_create"),
    path("compounds/<int:pk>/edit/", views.compound_edit, name="compound_edit"),
    path("buildings/new/", views.building_edit, name="building_create"),
    path("buildings/<int:pk>/edit/", views.building_edit, name="building_edit"),
    path("households/", views.households, name="households"),
    path("households/new/", views.household_edit, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/people/new/", views.household_person_add, name="household_person_add"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("people/", views.people, name="people"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/move/", views.person_move, name="person_move"),
    path("people/<int:pk>/login/", views.person_login, name="person_login"),
    path("people/<int:pk>/password-reset/", views.person_password_reset, name="person_password_reset"),
    path("people/<int:pk>/active/", views.person_active, name="person_active"),
    path("teams/", views.teams, name="teams"),
    path("teams/new/", views.team_edit, name="team_create"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("team-members/<int:pk>/remove/", views.team_member_remove, name="team_member_remove"),
    path("merchants/", views.merchants, name="merchants"),
    path("merchants/new/", views.merchant_edit, name="merchant_create"),
    path("merchants/<int:pk>/edit/", views.merchant_edit, name="merchant_edit"),
    path("partners/", views.partners, name="partners"),
    path("partners/new/", views.partner_edit, name="partner_create"),
    path("partners/<int:pk>/edit/", views.partner_edit, name="partner_edit"),
    path("roles/", views.roles, name="roles"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("account/", views.account, name="account"),
    path("org/", include((org_patterns, "org"))),
]
