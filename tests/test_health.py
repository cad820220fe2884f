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
