from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Notification, OrgUnit, User


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "level", "depth", "is_station", "is_active", "parent"]

    def get_parent(self, obj: OrgUnit) -> int | None:
        # The parent's code is the child's code with its own segment zeroed; resolved by the view's map.
        return self.context.get("parent_ids", {}).get(obj.path[: -OrgUnit.steplen])


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    org_unit = OrgUnitSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "real_name", "email", "org_unit", "roles"]

    def get_roles(self, obj: User) -> list[str]:
        return sorted(obj.role_names)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "link", "level", "created_at", "read_at"]
        read_only_fields = fields


class TokenRequestSerializer(serializers.Serializer):
    """User name and password for an API token. The user name is bounded like the login form's (a longer one
    is a 400, never a write to the lockout table, whose column holds 255 characters)."""

    username = serializers.CharField(label=_("User name"), max_length=User._meta.get_field("username").max_length,
                                     write_only=True)
    password = serializers.CharField(label=_("Password"), max_length=4096, style={"input_type": "password"},
                                     trim_whitespace=False, write_only=True)

    def validate(self, attrs):
        user = authenticate(request=self.context.get("request"), username=attrs["username"], password=attrs["password"])
        if not user:
            raise serializers.ValidationError(_("Unable to log in with provided credentials."), code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key: shown in this answer only.")
    expiry = serializers.DateTimeField(help_text="When the token stops working (API_TOKEN_TTL_DAYS).")
