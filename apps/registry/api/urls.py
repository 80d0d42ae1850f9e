"""Registry API routes (owned by the API work)."""

urlpatterns: list = []
