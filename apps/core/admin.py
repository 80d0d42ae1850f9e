from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import AccessLog, Notification, OrgUnit, User


@admin.register(OrgUnit)
class OrgUnitAdmin(TreeAdmin):
    form = movenodeform_factory(OrgUnit)
    list_display = ["name", "code", "level", "is_station", "is_active"]
    search_fields = ["name", "code"]


class PasswordSetForm(AdminPasswordChangeForm):
    """The admin site's "set password" also revokes the user's API tokens, as the portal's does."""

    def save(self, commit=True):
        user = super().save(commit)
        if commit:
            from .services import api_tokens_revoke

            api_tokens_revoke(user=user)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = PasswordSetForm
    list_display = ["username", "real_name", "org_unit", "is_active", "last_login"]
    list_select_related = ["org_unit"]
    search_fields = ["username", "real_name", "phone"]
    autocomplete_fields = ["org_unit"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Portal"), {"fields": ["real_name", "phone", "org_unit"]}),
    ]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: audit records are protected from edits."""

    list_display = ["created_at", "user", "action", "object_repr", "ip_address"]
    list_filter = ["action"]
    search_fields = ["object_repr", "user__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "title", "level", "read_at"]
    list_select_related = ["recipient"]
