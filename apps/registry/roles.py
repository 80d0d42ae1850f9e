"""Registry permissions per role: leadership reads; stations and bureau staff keep records."""

from apps.core.roles import ADMIN, BUREAU_STAFF, LEADER, STREET_STATION, VILLAGE_STATION

READ = ["registry.view_veteran", "registry.view_familymember", "registry.view_careentitlement",
        "registry.view_preferentialcard", "registry.view_transfer", "registry.view_attachment"]
KEEP = READ + [
    "registry.add_veteran", "registry.change_veteran", "registry.add_familymember", "registry.change_familymember",
    "registry.delete_familymember", "registry.add_careentitlement", "registry.change_careentitlement",
    "registry.delete_careentitlement", "registry.add_preferentialcard", "registry.change_preferentialcard",
    "registry.add_attachment", "registry.delete_attachment", "registry.transfer_veteran", "registry.import_veteran",
    "registry.export_veteran", "registry.reveal_id_number",
]
ROLE_PERMISSIONS = {
    ADMIN: KEEP + ["registry.view_code", "registry.add_code", "registry.change_code"],
    LEADER: READ,
    BUREAU_STAFF: KEEP,
    STREET_STATION: KEEP,
    VILLAGE_STATION: KEEP,
}
