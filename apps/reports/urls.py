"""Reports: home pages, the dashboard, report forms and the monthly report. Each part keeps its routes in its
own block (views/<part>.py)."""

from django.urls import path  # noqa: F401

app_name = "reports"

urlpatterns: list = []

# --- home pages (views/home.py) ---
from .views import home  # noqa: E402

urlpatterns += [
    path("cards-waiting/", home.CardsWaitingListView.as_view(), name="home_cards_waiting"),
]

# --- dashboard (views/dashboard.py) ---

# --- report forms (views/forms.py) ---

# --- monthly report (views/monthly.py) ---
