"""Care permissions per role: stations and bureau staff log visits and work their lists; leadership reads;
administrators keep the rules and occasions; bureau staff keep the liaison pairings."""

from apps.core.roles import ADMIN, BUREAU_STAFF, LEADER, STREET_STATION, VILLAGE_STATION

LIAISON_READ = ["care.view_liaisonpairing", "care.view_liaisontask"]
READ = ["care.view_visit", "care.view_duevisit", "care.view_lifeevent", "care.view_campaign", "care.view_visitrule",
        *LIAISON_READ]
WORK = READ + ["care.add_visit", "care.change_visit", "care.add_lifeevent", "care.change_duevisit"]
ROLE_PERMISSIONS = {
    ADMIN: WORK + ["care.add_visitrule", "care.change_visitrule", "care.view_occasion", "care.add_occasion",
                   "care.change_occasion"],
    LEADER: READ,
    BUREAU_STAFF: WORK + ["care.add_liaisonpairing", "care.change_liaisonpairing", "care.add_liaisontask",
                          "care.change_liaisontask"],
    STREET_STATION: WORK + ["care.change_liaisontask"],
    # 机关驻街 pairs bureau departments with streets: nothing of it lies in a village's area.
    VILLAGE_STATION: [p for p in WORK if p not in LIAISON_READ],
}
