"""Care permissions per role: stations and bureau staff log visits and work their lists; leadership reads;
administrators keep the rules and occasions. (机关驻街's permissions are in apps/liaison/roles.py.)"""

from apps.core.roles import ADMIN, BUREAU_STAFF, LEADER, STREET_STATION, VILLAGE_STATION

READ = ["care.view_visit", "care.view_duevisit", "care.view_lifeevent", "care.view_campaign", "care.view_visitrule"]
WORK = READ + ["care.add_visit", "care.change_visit", "care.add_lifeevent", "care.change_duevisit"]
ROLE_PERMISSIONS = {
    ADMIN: WORK + ["care.add_visitrule", "care.change_visitrule", "care.view_occasion", "care.add_occasion",
                   "care.change_occasion"],
    LEADER: READ,
    BUREAU_STAFF: WORK,
    STREET_STATION: WORK,
    VILLAGE_STATION: WORK,
}
