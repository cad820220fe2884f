"""Who may use which route: every route the app serves × every kind of visitor → the expected outcome.

This is the authorisation matrix of issue #11 as data. `tests/test_access.py` walks every route of the real
app and fails for a route without a rule here (and for a rule without a route), then makes each request
as each visitor against a real database and checks the outcome. `docs/access.md` is this table rendered
for a data-protection officer; regenerate it after a change with

    python -m tests.access_matrix > docs/access.md

The visitors (columns), all about preschool A (Ekorren, organisation Norrstad):

- anonymous: no credentials at all.
- kiosk: a paired kiosk tablet of A (device token, `Authorization: Bearer …`).
- guardian: a guardian holding the personal link of a child at A (the token in the address of
  `/guardian/open`, then in the `/guardian` cookie).
- pedagogue A: a user with the pedagogue role at A.
- admin A: a user with the admin role at A (not an organisation admin).
- pedagogue B: a user with the pedagogue role at B only (Humlan, the same organisation as A).
- org admin: an administrator of A's organisation (every preschool of it, users, the audit log).
- other org: an administrator of another organisation (Söderby). Not one of the six roles of the issue;
  kept because the tenant boundary is the line that matters most: another organisation's preschools are
  404, as if they did not exist.

Outcomes: ALLOW (the route does its work: any answer but 401/403/404 and 5xx, so a 400 or 422 for an empty
form counts), LOGIN (admin pages: 303 to /admin/login; elsewhere 401), FORBIDDEN (403), NOT_FOUND (404).
Path parameters are always A's objects (a child, an event, a device … of Ekorren).
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass


class Outcome(enum.Enum):
    ALLOW = "✓"
    LOGIN = "login"
    FORBIDDEN = "403"
    NOT_FOUND = "404"


Y, L, F, N = Outcome.ALLOW, Outcome.LOGIN, Outcome.FORBIDDEN, Outcome.NOT_FOUND

# The visitors, in the order of every rule's outcomes.
ROLES = ("anonymous", "kiosk", "guardian", "pedagogue_a", "admin_a", "pedagogue_b", "org_admin", "other_org")
ROLE_LABELS = {
    "anonymous": "anonymous",
    "kiosk": "kiosk of A",
    "guardian": "guardian (child at A)",
    "pedagogue_a": "pedagogue of A",
    "admin_a": "admin of A",
    "pedagogue_b": "pedagogue of B",
    "org_admin": "org admin",
    "other_org": "admin of other org",
}

Row = tuple[Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome]

# The recurring rules. Columns:  anon kiosk guard pedA admA pedB org other
PUBLIC: Row = (Y, Y, Y, Y, Y, Y, Y, Y)
KIOSK_ONLY: Row = (L, Y, L, L, L, L, L, L)  # a device token; a staff session is not one
GUARDIAN: Row = (L, L, Y, L, L, L, L, L)  # the guardian cookie, which only /guardian sees
GUARDIAN_LINK: Row = (N, N, Y, N, N, N, N, N)  # the link's token is the credential: without it, no link
STAFF: Row = (L, L, L, Y, Y, Y, Y, Y)  # any signed-in staff member, about themselves or their own scope
AT_PRESCHOOL: Row = (L, L, L, Y, Y, F, Y, N)  # any role at A (pedagogue or admin), or A's org admin
PRESCHOOL_ADMIN: Row = (L, L, L, F, Y, F, Y, N)  # the admin role at A, or A's org admin
ORG_ADMIN: Row = (L, L, L, F, F, F, Y, Y)  # organisation admins, each in their own organisation
ORG_ADMIN_OF_A: Row = (L, L, L, F, F, F, Y, N)  # about one of A's organisation's users
CLOSED: Row = (L, L, L, L, L, L, L, L)  # closed to everyone in this state (see the rule's note)


@dataclass(frozen=True)
class Rule:
    method: str
    path: str  # the route's path template, as FastAPI has it
    expected: Row
    why: str = ""  # for a rule that is not obvious from its pattern
    # The route's own answer is a redirect to the sign-in page (so that redirect means ALLOW, not LOGIN).
    done_at_login: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def outcome(self, role: str) -> Outcome:
        return self.expected[ROLES.index(role)]


def r(method: str, path: str, expected: Row, why: str = "", *, done_at_login: bool = False) -> Rule:
    return Rule(method, path, expected, why, done_at_login)


P = "/admin/p/{slug}"  # a preschool's admin pages

SECTIONS: list[tuple[str, list[Rule]]] = [
    (
        "Public: health, documentation, static files, kiosk pages",
        [
            r("GET", "/healthz", PUBLIC, "for load balancers and monitoring; says only ok or unavailable"),
            r("GET", "/", PUBLIC, "a redirect to /admin"),
            r("GET", "/api/docs", PUBLIC),
            r("GET", "/api/openapi.json", PUBLIC),
            r("HEAD", "/api/openapi.json", PUBLIC),
            r("GET", "/static/{path}", PUBLIC, "the kiosk's and admin's code, styles and pictures"),
            r("HEAD", "/static/{path}", PUBLIC),
            r(
                "GET",
                "/kiosk",
                PUBLIC,
                "a static page; everything it shows comes from the API with the token",
            ),
            r("GET", "/kiosk/pair", PUBLIC),
            r("GET", "/kiosk/sw.js", PUBLIC),
        ],
    ),
    (
        "Kiosk API (device token)",
        [
            r("POST", "/api/v1/devices/pair", PUBLIC, "the one-time pairing code is the credential"),
            r("GET", "/api/v1/kiosk", KIOSK_ONLY),
            r("POST", "/api/v1/ask", KIOSK_ONLY),
            r(
                "POST",
                "/api/v1/listen",
                KIOSK_ONLY,
                "without a speech model the kiosk gets 501, after the token",
            ),
            r("GET", "/api/v1/children", KIOSK_ONLY),
            r("GET", "/api/v1/answers", KIOSK_ONLY),
            r("POST", "/api/v1/clothes/rating", KIOSK_ONLY),
            r("POST", "/api/v1/lunch/rating", KIOSK_ONLY),
            r("GET", "/api/v1/today", KIOSK_ONLY),
            r(
                "GET",
                "/api/v1/speech/{token}",
                KIOSK_ONLY,
                "and only a token sealed for the kiosk's preschool",
            ),
            r("HEAD", "/api/v1/speech/{token}", KIOSK_ONLY),
        ],
    ),
    (
        "Staff API (session cookie)",
        [
            r("GET", "/api/v1/preschools", STAFF, "each sees the preschools they have a role at"),
            r(
                "GET",
                "/api/v1/preschools/{preschool_id}",
                (L, L, L, Y, Y, N, Y, N),
                "no role at the preschool: 404, it is not listed for them either",
            ),
        ],
    ),
    (
        "Uploaded pictures (children's photos, activities' pictures)",
        [
            r(
                "GET",
                "/uploads/{name}",
                (L, Y, L, Y, Y, N, Y, N),
                "staff and kiosks of a preschool that uses the picture; anyone else 404 (was: any staff "
                "member or kiosk of any organisation, fixed in #11)",
            ),
        ],
    ),
    (
        "Admin: sign-in, account, dashboard",
        [
            r("GET", "/admin", STAFF, "the dashboard lists the preschools one has a role at"),
            r(
                "GET",
                "/admin/setup",
                CLOSED,
                "first run only: once an organisation exists it sends everyone to sign in",
            ),
            r("POST", "/admin/setup", CLOSED, "as above; it creates nothing"),
            r("GET", "/admin/login", PUBLIC),
            r(
                "POST",
                "/admin/login",
                PUBLIC,
                "with valid credentials anyone signs in (CSRF: the seed cookie)",
            ),
            r(
                "GET",
                "/admin/login/code",
                CLOSED,
                "the second step of signing in with a code: only after a right password (a sealed cookie)",
            ),
            r("POST", "/admin/login/code", PUBLIC, "without the right password first: 'sign in again' (400)"),
            r("POST", "/admin/logout", PUBLIC, "ends one's own session, if any", done_at_login=True),
            r("GET", "/admin/account", STAFF, "one's own password"),
            r("POST", "/admin/account", STAFF),
            r("POST", "/admin/account/totp", STAFF, "one's own sign-in codes (TOTP)"),
            r("POST", "/admin/account/totp/confirm", STAFF),
            r("POST", "/admin/account/totp/off", STAFF, "needs one's own password"),
        ],
    ),
    (
        "Admin: organisation (users, preschools, audit log)",
        [
            r("GET", "/admin/preschools/new", ORG_ADMIN, "a new preschool in one's own organisation"),
            r("POST", "/admin/preschools/new", ORG_ADMIN),
            r("GET", "/admin/users", ORG_ADMIN, "lists the users of one's own organisation only"),
            r("POST", "/admin/users", ORG_ADMIN),
            r("GET", "/admin/users/{user_id}", ORG_ADMIN_OF_A),
            r("POST", "/admin/users/{user_id}", ORG_ADMIN_OF_A),
            r("POST", "/admin/users/{user_id}/totp/off", ORG_ADMIN_OF_A, "for a user who lost their phone"),
            r("GET", "/admin/audit", ORG_ADMIN, "lists one's own organisation's entries only"),
        ],
    ),
    (
        "Admin: a preschool's settings and kiosks",
        [
            r("GET", P + "/settings", AT_PRESCHOOL, "pedagogues read the settings; only admins may save"),
            r("POST", P + "/settings", PRESCHOOL_ADMIN),
            r("GET", P + "/devices", PRESCHOOL_ADMIN, "pairing codes are shown here"),
            r("POST", P + "/devices", PRESCHOOL_ADMIN),
            r("POST", P + "/devices/{device_id}/revoke", PRESCHOOL_ADMIN),
        ],
    ),
    (
        "Admin: children, guardians' links, the day",
        [
            r("GET", P + "/children", AT_PRESCHOOL),
            r("POST", P + "/children", AT_PRESCHOOL),
            r("GET", P + "/children/import", AT_PRESCHOOL),
            r("POST", P + "/children/import", AT_PRESCHOOL),
            r("POST", P + "/children/import/save", AT_PRESCHOOL),
            r("GET", P + "/children/{child_id}", AT_PRESCHOOL),
            r("POST", P + "/children/{child_id}", AT_PRESCHOOL),
            r("POST", P + "/children/{child_id}/week", AT_PRESCHOOL),
            r("POST", P + "/children/{child_id}/links", AT_PRESCHOOL),
            r("POST", P + "/children/{child_id}/links/{link_id}/revoke", AT_PRESCHOOL),
            r(
                "GET",
                P + "/children/{child_id}/export",
                PRESCHOOL_ADMIN,
                "everything about one child as a file (right of access): the preschool's admins only",
            ),
            r("POST", P + "/children/{child_id}/delete", AT_PRESCHOOL),
            r("GET", P + "/day", AT_PRESCHOOL),
            r("POST", P + "/day/{child_id}/mark", AT_PRESCHOOL),
            r("POST", P + "/day/{child_id}", AT_PRESCHOOL),
        ],
    ),
    (
        "Admin: the preschool's content (weather, menu, schedule, calendar, voice, translations)",
        [
            r("GET", P + "/weather", AT_PRESCHOOL),
            r("POST", P + "/weather/corrections", AT_PRESCHOOL),
            r("POST", P + "/weather/corrections/{correction_id}/delete", AT_PRESCHOOL),
            r("GET", P + "/menu", AT_PRESCHOOL),
            r("POST", P + "/menu", AT_PRESCHOOL),
            r("POST", P + "/menu/copy", AT_PRESCHOOL),
            r("GET", P + "/menu/menu.csv", AT_PRESCHOOL),
            r("POST", P + "/menu/import", AT_PRESCHOOL),
            r("POST", P + "/menu/source", AT_PRESCHOOL),
            r("GET", P + "/schedule", AT_PRESCHOOL),
            r("POST", P + "/schedule", AT_PRESCHOOL),
            r("POST", P + "/schedule/clear", AT_PRESCHOOL),
            r("POST", P + "/schedule/copy", AT_PRESCHOOL),
            r("GET", P + "/calendar", AT_PRESCHOOL),
            r("POST", P + "/calendar/events", AT_PRESCHOOL),
            r("POST", P + "/calendar/events/{event_id}/delete", AT_PRESCHOOL),
            r("POST", P + "/calendar/closed", AT_PRESCHOOL),
            r("POST", P + "/calendar/closed/{closed_day_id}/delete", AT_PRESCHOOL),
            r("POST", P + "/calendar/activities", AT_PRESCHOOL),
            r("POST", P + "/calendar/activities/{activity_id}/delete", AT_PRESCHOOL),
            r("POST", P + "/calendar/names", AT_PRESCHOOL),
            r("GET", P + "/voice", AT_PRESCHOOL),
            r("POST", P + "/voice/speech", PRESCHOOL_ADMIN, "rate and pitch are preschool settings"),
            r(
                "POST",
                P + "/voice/pronunciations",
                AT_PRESCHOOL,
                "the pronunciation table is everyday content",
            ),
            r("POST", P + "/voice/pronunciations/{entry_id}", AT_PRESCHOOL),
            r("POST", P + "/voice/pronunciations/{entry_id}/delete", AT_PRESCHOOL),
            r("POST", P + "/voice/try", AT_PRESCHOOL),
            r("GET", P + "/voice/preview", AT_PRESCHOOL),
            r("GET", P + "/translations", AT_PRESCHOOL),
            r("POST", P + "/translations", AT_PRESCHOOL, "staff translations are everyday content"),
            r("POST", P + "/translations/suggest", AT_PRESCHOOL),
        ],
    ),
    (
        "Guardian's link",
        [
            r("GET", "/guardian/open", GUARDIAN_LINK),
            r("GET", "/guardian", GUARDIAN, "the link decides the child: no request names one"),
            r("POST", "/guardian", GUARDIAN),
        ],
    ),
]

RULES: list[Rule] = [rule for _, rules in SECTIONS for rule in rules]
BY_KEY: dict[tuple[str, str], Rule] = {rule.key: rule for rule in RULES}
assert len(BY_KEY) == len(RULES), "two rules for the same route"

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- the document ----------------------------------------------------------------------------------------

SHOWN = {Y: "✓", L: "login", F: "403", N: "404"}

INTRO = """\
# Who may use what: the access matrix

Every route Laiban serves, and what each kind of visitor gets from it. A ✓ means the route does its work
for them; "login" means they are sent to sign in (admin pages: a redirect to the sign-in page; the API
and the guardian's page: 401), 403 that they are signed in but lack the role, and 404 that the thing is
not theirs to know about (another organisation's preschool, a link without its token). Every route and
every cell is checked against the running application by `tests/test_access.py`, with the path filled with
preschool A's own objects, and every form that changes something is refused without its CSRF token.

Visitors: *kiosk of A* is a paired tablet of preschool A; *guardian* holds the personal link of a child at
A; *pedagogue of B* has a role at another preschool of the same organisation only; *admin of other org*
administers another organisation (the tenant boundary).

This file is generated from `tests/access_matrix.py`; after changing the rules run
`python -m tests.access_matrix > docs/access.md` (a test checks that they agree).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The matrix as markdown (docs/access.md)."""
    lines = [INTRO]
    header = "| route | " + " | ".join(ROLE_LABELS[role] for role in ROLES) + " | note |"
    rule_line = "|---|" + "---|" * len(ROLES) + "---|"
    for title, rules in SECTIONS:
        lines += [f"## {title}", "", header, rule_line]
        for rule in rules:
            cells = [
                f"`{rule.method} {_cell(rule.path)}`",
                *(SHOWN[o] for o in rule.expected),
                _cell(rule.why),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
