import pytest
from fastapi.testclient import TestClient

from laiban.config import Settings
from laiban.store.db import make_engine
from laiban.web.app import create_app


def test_healthz_is_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_with_a_reason_when_the_database_is_unreachable(tmp_path, settings: Settings) -> None:
    # A directory is not an SQLite file; PostgreSQL on a closed port: either way nothing answers.
    url = f"sqlite:///{tmp_path}" if settings.is_sqlite else "postgresql+psycopg://nobody@127.0.0.1:9/none"
    app = create_app(settings, make_engine(url))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["reason"].startswith("database: ")


def test_access_log_leaves_out_query_strings(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="laiban.access"):
        client.get("/kiosk/pair?code=SECRET42")
    lines = [record.getMessage() for record in caplog.records if record.name == "laiban.access"]
    assert lines and lines[-1].startswith("GET /kiosk/pair 200")
    assert all("SECRET42" not in line for line in lines)
