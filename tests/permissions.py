"""The permission matrix's vocabulary: principals and the Route row. Apps add their rows in
``tests/<app>/matrix.py`` (``ROUTES`` and an ``objects(users, tree)`` hook for the records they need);
``tests/core/test_permission_matrix.py`` collects them and fails on any route without a row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

LOGIN = "login"  # expected outcome: a redirect to the login page
VERIFY = "verify"  # expected outcome: a redirect to the second step (core:otp_verify)
REDIRECT = 302  # expected outcome: a redirect elsewhere (a POST action that succeeded)

DISTRICT = frozenset({"admin", "leader", "bureau"})
STATIONS = frozenset({"street_a", "street_b", "village_a1", "village_a2", "village_b1"})
MANAGERS = frozenset({"manager_a", "manager_b"})
AUTHENTICATED = DISTRICT | STATIONS | MANAGERS | {"enterprise", "nobody"}
# An administrator whose session passed the password step only (a confirmed device, no code entered yet).
# The other administrator, "admin", is the verified session. Every route sends this one to the second step
# (``Route.password_only``) except the few the second step itself needs.
PASSWORD_ONLY = "admin_password_only"
PRINCIPALS = sorted(AUTHENTICATED) + [PASSWORD_ONLY, "anon"]
ORGUNIT_VIEWERS = DISTRICT | STATIONS | MANAGERS  # hold core.view_orgunit
# Who may see village A1 and the users in it; the rest of ORGUNIT_VIEWERS must get 404.
A1_SCOPE = DISTRICT | {"street_a", "village_a1", "manager_a"}
A1_OUT_OF_SCOPE = ORGUNIT_VIEWERS - A1_SCOPE
USER_MANAGERS = frozenset({"admin"}) | MANAGERS  # hold core.manage_users and core.manage_orgunits


@dataclass(frozen=True)
class Route:
    """One row of the matrix."""

    name: str
    method: str = "get"
    kwargs: Callable[[dict], dict] = lambda objs: {}
    data: Callable[[dict, str], dict] = lambda objs, who: {}
    ok: frozenset[str] = frozenset()
    ok_status: int | str = 200
    not_found: frozenset[str] = frozenset()
    denied: int | str = 403
    anon: int | str = LOGIN
    password_only: int | str = VERIFY  # what the password-only administrator session gets
    # Principals whose outcome differs from the rule above, with the reason in a comment.
    override: dict = field(default_factory=dict)
    # Principals checked elsewhere (a known defect has its own xfail test).
    skip: frozenset[str] = frozenset()
    headers: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)  # GET parameters
    # A known application defect: the entry is expected to fail until it is fixed (strict xfail).
    bug: str = ""

    def expected(self, who: str) -> int | str:
        if who in self.override:
            return self.override[who]
        if who == PASSWORD_ONLY:
            return self.password_only
        if who == "anon":
            return self.anon
        if who in self.ok:
            return self.ok_status
        if who in self.not_found:
            return 404
        return self.denied

    def __str__(self) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else ""
        return f"{self.method.upper()} {self.name}{query}"
