"""Council pages under /council/, namespace "council". Each part has its own module so they grow independently."""

from django.urls import include, path

app_name = "council"

urlpatterns = [
    path("", include("linli.council.urls_meetings")),  # series, meetings, invitations, QR check-in, agenda, minutes
    path("", include("linli.council.urls_resolutions")),  # the board, chasing, echo wall, evaluation desk, figures
    path("", include("linli.council.urls_votes")),  # owners' votes: roll, ballots, tally, public notice
]
