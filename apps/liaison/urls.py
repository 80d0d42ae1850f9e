"""机关驻街: bureau departments paired with streets, their monthly task lists and the monthly summary."""

from django.urls import path

from . import views

app_name = "liaison"

urlpatterns = [
    path("", views.PairingListView.as_view(), name="pairing_list"),
    path("pairings/new/", views.PairingFormView.as_view(), name="pairing_create"),
    path("pairings/<int:pk>/", views.PairingDetailView.as_view(), name="pairing_detail"),
    path("pairings/<int:pk>/edit/", views.PairingFormView.as_view(), name="pairing_edit"),
    path("pairings/<int:pk>/copy/", views.month_copy, name="pairing_copy"),
    path("pairings/<int:pairing_pk>/tasks/new/", views.TaskFormView.as_view(), name="task_create"),
    path("tasks/<int:pk>/", views.TaskFormView.as_view(), name="task_edit"),
    path("summary/", views.SummaryView.as_view(), name="summary"),
    path("summary/export/", views.summary_export, name="summary_export"),
]
