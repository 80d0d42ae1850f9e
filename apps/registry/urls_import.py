"""Routes of the import pages (owned by the import work)."""

urlpatterns: list = []
