"""Honours permissions per role: stations and bureau staff keep the plaque and merit-notice registers
(delivering a notice is a change); leadership reads; administrators hold everything."""

from apps.core.roles import ADMIN, BUREAU_STAFF, LEADER, STREET_STATION, VILLAGE_STATION

READ = ["honors.view_plaquerecord", "honors.view_meritnotice"]
KEEP = READ + ["honors.add_plaquerecord", "honors.change_plaquerecord", "honors.add_meritnotice",
               "honors.change_meritnotice"]
ROLE_PERMISSIONS = {
    ADMIN: KEEP + ["honors.delete_plaquerecord", "honors.delete_meritnotice"],
    LEADER: READ,
    BUREAU_STAFF: KEEP,
    STREET_STATION: KEEP,
    VILLAGE_STATION: KEEP,
}
