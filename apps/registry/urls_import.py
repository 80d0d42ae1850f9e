"""Routes of the import pages (owned by the import work)."""

from django.urls import path

from . import views_import

urlpatterns: list = [
    path("import/", views_import.ImportUploadView.as_view(), name="import_upload"),
    path("import/template.xlsx", views_import.import_template, name="import_template"),
    path("import/<int:pk>/", views_import.ImportDetailView.as_view(), name="import_detail"),
    path("import/<int:pk>/progress/", views_import.import_progress, name="import_progress"),
    path("import/<int:pk>/confirm/", views_import.import_confirm, name="import_confirm"),
    path("import/<int:pk>/errors.xlsx", views_import.import_errors, name="import_errors"),
]
