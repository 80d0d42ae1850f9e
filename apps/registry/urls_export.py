"""Routes of the export, PDF and download pages (owned by the export work)."""

urlpatterns: list = []
