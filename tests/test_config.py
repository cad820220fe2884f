import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from laiban.config import ConfigError, Settings


def load(tmp_path: Path, **env: str) -> Settings:
    return Settings.load({"LAIBAN_DATA_DIR": str(tmp_path), **env})


def test_defaults_put_sqlite_in_the_data_dir_and_listen_locally(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'laiban.db'}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.smhi_base_url.startswith("https://")


def test_environment_overrides_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "laiban.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\nsmhi_base_url = "http://127.0.0.1:5000/"\n')
    settings = Settings.load(
        {"LAIBAN_DATA_DIR": str(tmp_path), "LAIBAN_CONFIG": str(config), "LAIBAN_PORT": "9100"}
    )
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"
    assert settings.smhi_base_url == "http://127.0.0.1:5000"


def test_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    for given in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert load(tmp_path, LAIBAN_DATABASE_URL=given).database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LAIBAN_PORT", "eighty"),
        ("LAIBAN_PORT", "70000"),
        ("LAIBAN_DATABASE_URL", "mysql://root@localhost/laiban"),
        ("LAIBAN_SMHI_BASE_URL", "ftp://example.org"),
        ("LAIBAN_METNO_BASE_URL", "not a url"),
        ("LAIBAN_SECRET_KEY", "short"),
        ("LAIBAN_SESSION_HOURS", "0"),
        ("LAIBAN_SECURE_COOKIES", "maybe"),
        ("LAIBAN_LOG_LEVEL", "loud"),
    ],
)
def test_an_invalid_setting_is_one_sentence_naming_it(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **{name: value})
    message = str(caught.value)
    assert message.startswith(name)
    assert message.endswith(".")
    assert "\n" not in message


def test_unknown_or_broken_config_files_are_refused(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("prot = 8000\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        Settings.load({"LAIBAN_DATA_DIR": str(tmp_path)}, config_file=unknown)
    broken = tmp_path / "broken.toml"
    broken.write_text("port = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load({"LAIBAN_DATA_DIR": str(tmp_path)}, config_file=broken)
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load({"LAIBAN_DATA_DIR": str(tmp_path)}, config_file=tmp_path / "missing.toml")


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load(tmp_path / "data").prepare()
    second = load(tmp_path / "data").prepare()
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    mode = (tmp_path / "data" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_given_secret_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    settings = load(tmp_path, LAIBAN_SECRET_KEY="k" * 40).prepare()
    assert settings.secret_key == "k" * 40
    assert not (tmp_path / "secret_key").exists()


def test_processes_may_check_the_data_dir_at_the_same_time(tmp_path: Path) -> None:
    # Found in CI: three `laiban prerender` at once, one failed with "not a writable folder (No such file
    # or directory)": they shared one probe file, and one deleted it under another.
    load(tmp_path).prepare()

    def check(_: int) -> None:
        for _ in range(50):
            load(tmp_path).prepare()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(check, range(8)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no probe left behind


def test_a_data_dir_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"^LAIBAN_DATA_DIR .* is not a writable folder"):
        load(blocker / "data").prepare()


def test_an_empty_stored_key_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")  # e.g. left by a crash of an older version
    with pytest.raises(ConfigError, match="too short"):
        load(tmp_path).prepare()


def test_a_config_file_that_is_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        Settings.load({"LAIBAN_DATA_DIR": str(tmp_path)}, config_file=tmp_path)
