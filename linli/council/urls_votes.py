"""Council pages: owners' votes — the staff list and form, the vote page with its roll, ballots and tally, the public
notice (HTML and PDF), and the owner's ballot on the phone."""

from django.urls import URLPattern, path

from linli.council import views_votes as v

urlpatterns: list[URLPattern] = [
    path("votes/", v.votes, name="votes"),
    path("votes/new/", v.vote_new, name="vote_new"),
    path("votes/<int:pk>/", v.vote, name="vote"),
    path("votes/<int:pk>/edit/", v.vote_edit, name="vote_edit"),
    path("votes/<int:pk>/open/", v.vote_open, name="vote_open"),
    path("votes/<int:pk>/ballots/", v.ballot_record, name="ballot_record"),
    path("votes/ballots/<int:pk>/void/", v.ballot_void, name="ballot_void"),
    path("votes/<int:pk>/close/", v.vote_close, name="vote_close"),
    path("votes/<int:pk>/cancel/", v.vote_cancel, name="vote_cancel"),
    path("votes/<int:pk>/notice/", v.vote_notice, name="vote_notice"),
    path("votes/<int:pk>/notice.pdf", v.vote_notice_pdf, name="vote_notice_pdf"),
    path("my/votes/", v.my_votes, name="my_votes"),
    path("my/votes/<int:pk>/", v.my_vote, name="my_vote"),
    path("my/votes/<int:pk>/cast/", v.my_vote_cast, name="my_vote_cast"),
]
