"""Routes of the export and the one-person file PDF (owned by the export work)."""

from django.urls import path

from . import views_export

urlpatterns: list = [
    path("export/", views_export.VeteranExportView.as_view(), name="veteran_export"),
    path("<int:pk>/pdf/", views_export.veteran_pdf, name="veteran_pdf"),
]
