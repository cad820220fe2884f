"""The JSON API: kiosk devices, staff reads, and errors that are always JSON."""

import pytest
from fastapi.testclient import TestClient

from .conftest import Browser, SignIn
from .world import PASSWORD, World


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text


def test_a_device_sees_its_own_preschool(client: TestClient, world: World) -> None:
    response = client.get("/api/v1/kiosk", headers=bearer(world.device_ekorren))
    assert response.status_code == 200
    body = response.json()
    assert body["preschool"]["slug"] == "ekorren"
    assert body["preschool"]["groups"] == [{"id": body["preschool"]["groups"][0]["id"], "name": "Svamp"}]
    assert (
        client.get("/api/v1/kiosk", headers=bearer(world.device_myran)).json()["preschool"]["slug"] == "myran"
    )


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz"])
def test_kiosk_routes_need_a_valid_device_token(client: TestClient, world: World, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    assert_error(client.get("/api/v1/kiosk", headers=headers), 401, "unauthorized")


def test_pairing_gives_a_token_once(client: TestClient, world: World, browser_for: SignIn) -> None:
    admin: Browser = browser_for(world.admin_ekorren, PASSWORD)
    page = admin.post("/admin/p/ekorren/devices", {"name": "Tamburen"})
    code = page.text.split('<p class="code">')[1].split("<")[0]
    paired = client.post("/api/v1/devices/pair", json={"code": code})
    assert paired.status_code == 200
    token = paired.json()["token"]
    assert paired.json()["preschool"]["slug"] == "ekorren"
    assert client.get("/api/v1/kiosk", headers=bearer(token)).json()["device"]["name"] == "Tamburen"
    assert_error(client.post("/api/v1/devices/pair", json={"code": code}), 400, "invalid_pairing_code")


def test_wrong_pairing_codes_are_throttled(client: TestClient, world: World) -> None:
    statuses = [
        client.post("/api/v1/devices/pair", json={"code": f"WRONG{i:03d}"}).status_code for i in range(11)
    ]
    assert statuses[:10] == [400] * 10
    assert_error(client.post("/api/v1/devices/pair", json={"code": "ANOTHER1"}), 429, "too_many_requests")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"code": 5}', "application/json"),
        ("{}", "application/json"),
        ('{"code": ""}', "application/json"),
        ("code=ABC", "text/plain"),
    ],
)
def test_bad_json_is_a_422_json_error(client: TestClient, body: str, content_type: str) -> None:
    response = client.post("/api/v1/devices/pair", content=body, headers={"content-type": content_type})
    assert_error(response, 422, "invalid_request")


def test_unknown_routes_and_methods_are_json_errors(client: TestClient) -> None:
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(client.delete("/api/v1/kiosk"), 405, "method_not_allowed")


def test_staff_api_needs_a_session(client: TestClient, world: World) -> None:
    assert_error(client.get("/api/v1/preschools"), 401, "unauthorized")
    # A device token is not a staff credential.
    assert_error(client.get("/api/v1/preschools", headers=bearer(world.device_ekorren)), 401, "unauthorized")


def test_staff_list_is_scoped_and_paginated(world: World, browser_for: SignIn) -> None:
    org_admin: Browser = browser_for(world.org_admin_a, PASSWORD)
    everything = org_admin.get("/api/v1/preschools").json()
    assert [p["slug"] for p in everything["items"]] == ["ekorren", "humlan"]
    assert everything["total"] == 2
    page = org_admin.get("/api/v1/preschools", params={"limit": 1, "offset": 1}).json()
    assert [p["slug"] for p in page["items"]] == ["humlan"]
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 1)
    assert org_admin.get("/api/v1/preschools", params={"offset": 10}).json()["items"] == []

    pedagogue: Browser = browser_for(world.pedagogue_ekorren, PASSWORD)
    assert [p["slug"] for p in pedagogue.get("/api/v1/preschools").json()["items"]] == ["ekorren"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"offset": -1}])
def test_bad_pagination_is_a_422(world: World, browser_for: SignIn, params: dict[str, object]) -> None:
    org_admin: Browser = browser_for(world.org_admin_a, PASSWORD)
    assert_error(org_admin.get("/api/v1/preschools", params=params), 422, "invalid_request")


def test_one_preschool_is_only_found_by_its_own_staff(world: World, browser_for: SignIn) -> None:
    pedagogue: Browser = browser_for(world.pedagogue_ekorren, PASSWORD)
    assert pedagogue.get(f"/api/v1/preschools/{world.ekorren}").json()["name"] == "Förskolan Ekorren"
    assert_error(pedagogue.get(f"/api/v1/preschools/{world.humlan}"), 404, "not_found")  # same org, no role
    assert_error(pedagogue.get(f"/api/v1/preschools/{world.myran}"), 404, "not_found")  # other org
    assert_error(pedagogue.get("/api/v1/preschools/999999"), 404, "not_found")
    assert_error(pedagogue.get("/api/v1/preschools/ekorren"), 422, "invalid_request")
    assert_error(pedagogue.get("/api/v1/preschools/99999999999999999999999"), 422, "invalid_request")


def test_openapi_and_docs_are_served_without_a_cdn(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/preschools" in schema["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "http" not in docs.text.replace('href="/', "").replace('src="/', "").split("<body>")[
        0
    ].lower().replace("http-equiv", "")
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_every_response_carries_a_strict_content_security_policy(client: TestClient) -> None:
    policy = client.get("/healthz").headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
