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
