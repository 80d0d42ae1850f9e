from django.contrib import admin

from .models import Code


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    """Code tables are data: administrators add, rename, reorder and retire entries here.

    Veteran records are not edited here: every change goes through the portal's services
    (validation, encryption of ID numbers, scope, audit).
    """

    list_display = ["name", "kind", "code", "parent", "is_key_recipient", "sort_order", "is_active"]
    list_filter = ["kind", "is_active", "is_key_recipient"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "code"]
    ordering = ["kind", "sort_order", "code"]

    def has_delete_permission(self, request, obj=None):
        return False  # retire an entry (is_active) instead: records keep pointing at it
