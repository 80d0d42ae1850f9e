"""机关驻街 permissions per role: bureau staff keep the pairings and plan the monthly items; street stations
report progress on their street's items; leadership and administrators read. Village stations have none
(nothing of it lies in a village's area)."""

from apps.core.roles import ADMIN, BUREAU_STAFF, LEADER, STREET_STATION

READ = ["liaison.view_liaisonpairing", "liaison.view_liaisontask"]
ROLE_PERMISSIONS = {
    ADMIN: READ,
    LEADER: READ,
    BUREAU_STAFF: READ + ["liaison.add_liaisonpairing", "liaison.change_liaisonpairing", "liaison.add_liaisontask",
                          "liaison.change_liaisontask"],
    STREET_STATION: READ + ["liaison.change_liaisontask"],
}
