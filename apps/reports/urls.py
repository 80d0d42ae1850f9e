"""Reports: home pages, the dashboard, report forms and the monthly report, one block per part (views/<part>.py)."""

from django.urls import path

from .views import dashboard as dashboard_views
from .views import forms as report_forms
from .views import home, monthly

app_name = "reports"

urlpatterns: list = []

# --- home pages (views/home.py) ---

urlpatterns += [
    path("cards-waiting/", home.CardsWaitingListView.as_view(), name="home_cards_waiting"),
]

# --- dashboard (views/dashboard.py) ---

urlpatterns += [path("dashboard/", dashboard_views.DashboardView.as_view(), name="dashboard")]

# --- report forms (views/forms.py) ---

urlpatterns += [
    path("forms/", report_forms.FormListView.as_view(), name="form_list"),
    path("forms/new/", report_forms.FormCreateView.as_view(), name="form_create"),
    path("forms/<int:pk>/", report_forms.FormDetailView.as_view(), name="form_detail"),
    path("forms/<int:pk>/edit/", report_forms.FormEditView.as_view(), name="form_edit"),
    path("forms/<int:pk>/bindings/", report_forms.FormBindingsView.as_view(), name="form_bindings"),
    path("forms/<int:pk>/file/", report_forms.FormTemplateView.as_view(), name="form_template"),
    path("forms/<int:pk>/generate/", report_forms.ReportGenerateView.as_view(), name="report_generate"),
    path("filled/<int:pk>/", report_forms.ReportDetailView.as_view(), name="report_detail"),
    path("filled/<int:pk>/review/", report_forms.ReportReviewView.as_view(), name="report_review"),
    path("filled/<int:pk>/lock/", report_forms.ReportLockView.as_view(), name="report_lock"),
    path("files/<int:pk>/", report_forms.ReportFileView.as_view(), name="report_file"),
]

# --- monthly report (views/monthly.py) ---

urlpatterns += [
    path("monthly/", monthly.MonthlyReportListView.as_view(), name="monthly"),
    path("monthly/build/", monthly.MonthlyReportBuildView.as_view(), name="monthly_build"),
]
