"""Reports: home pages, the dashboard, report forms and the monthly report. Each part keeps its routes in its
own block (views/<part>.py)."""

from django.urls import path  # noqa: F401

app_name = "reports"

urlpatterns: list = []

# --- dashboard (views/dashboard.py) ---

# --- report forms (views/forms.py) ---

# --- monthly report (views/monthly.py) ---
from .views import monthly  # noqa: E402

urlpatterns += [
    path("monthly/", monthly.MonthlyReportListView.as_view(), name="monthly"),
    path("monthly/build/", monthly.MonthlyReportBuildView.as_view(), name="monthly_build"),
]
