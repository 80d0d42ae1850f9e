"""Reports: home pages, the dashboard, report forms and the monthly report. Each part keeps its routes in its
own block (views/<part>.py)."""

from django.urls import path  # noqa: F401

app_name = "reports"

urlpatterns: list = []

# --- dashboard (views/dashboard.py) ---
from .views import dashboard as dashboard_views  # noqa: E402

urlpatterns += [path("dashboard/", dashboard_views.DashboardView.as_view(), name="dashboard")]

# --- report forms (views/forms.py) ---

# --- monthly report (views/monthly.py) ---
