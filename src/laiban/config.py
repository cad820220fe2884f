"""One Settings object, read from `LAIBAN_*` environment variables and an optional TOML file.

Precedence: environment variable > TOML file (`--config` / `LAIBAN_CONFIG`) > default. A TOML key is
the setting's name without the prefix, in lower case (`LAIBAN_DATABASE_URL` → `database_url`).
Every invalid value raises `ConfigError` with one sentence that names the setting.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

PREFIX = "LAIBAN_"


class ConfigError(Exception):
    """A setting has a value Laiban cannot use; the message names the setting."""


def _as_path(name: str, raw: Any) -> Path:
    if not isinstance(raw, str | Path) or not str(raw).strip():
        raise ConfigError(f"{name} must be a folder path, not {raw!r}.")
    return Path(str(raw)).expanduser()


def _as_port(name: str, raw: Any) -> int:
    try:
        port = int(str(raw))
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} must be a whole number between 1 and 65535, not {raw!r}.")
    return port


def _as_positive_int(name: str, raw: Any) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return value


def _as_http_url(name: str, raw: Any) -> str:
    text = str(raw).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http:// or https:// address, not {raw!r}.")
    return text.rstrip("/")


def _as_optional_http_url(name: str, raw: Any) -> str:
    """An http(s) address, or nothing (empty: the feature is off)."""
    return _as_http_url(name, raw) if str(raw).strip() else ""


def _as_database_url(name: str, raw: Any) -> str:
    text = str(raw).strip()
    scheme = text.split(":", 1)[0].lower()
    if ":" not in text or scheme.split("+")[0] not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(f"{name} must be a sqlite:/// or postgresql:// address, not {raw!r}.")
    if scheme.split("+")[0] == "postgres":  # the libpq spelling; SQLAlchemy needs the long one
        text = "postgresql" + text[len("postgres") :]
    if text.startswith("postgresql://"):  # use psycopg 3, the driver of the `postgres` extra
        text = "postgresql+psycopg://" + text[len("postgresql://") :]
    return text


def _as_text(name: str, raw: Any) -> str:
    text = str(raw).strip()
    if not text:
        raise ConfigError(f"{name} must not be empty.")
    return text


def _as_secret(name: str, raw: Any) -> str:
    text = str(raw)
    if len(text) < 32:
        raise ConfigError(f"{name} must be at least 32 characters long (it signs sessions and tokens).")
    return text


def _as_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _as_log_format(name: str, raw: Any) -> str:
    text = str(raw).strip().lower()
    if text not in ("text", "json"):
        raise ConfigError(f"{name} must be text or json, not {raw!r}.")
    return text


def _as_addresses(name: str, raw: Any) -> str:
    """Comma-separated IP addresses or networks (`127.0.0.1, 10.0.0.0/8`; a list in TOML), or `*` for any."""
    text = ",".join(map(str, raw)) if isinstance(raw, list) else str(raw)
    items = [item.strip() for item in text.split(",") if item.strip()]
    if items == ["*"]:
        return "*"
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            items = []
            break
    if not items:
        raise ConfigError(f"{name} must be IP addresses or networks separated by commas (or *), not {raw!r}.")
    return ",".join(items)


def _as_model_dir(name: str, raw: Any) -> Path | None:
    """A folder holding a Whisper model in CTranslate2 format, or nothing (empty). Checked now: a wrong
    path would be taken for the name of a model to download."""
    if isinstance(raw, str) and not raw.strip():
        return None
    path = _as_path(name, raw)
    if not (path / "model.bin").is_file():
        raise ConfigError(
            f"{name} {str(path)!r} must be a folder with a Whisper model in CTranslate2 format "
            "(config.json, model.bin, tokenizer.json), e.g. KBLab's kb-whisper-tiny."
        )
    return path


def _as_tts_engine(name: str, raw: Any) -> str:
    text = str(raw).strip().lower()
    if text not in ("espeak", "piper", "off"):
        raise ConfigError(f"{name} must be espeak, piper or off, not {raw!r}.")
    return text


def _as_megabytes(name: str, raw: Any) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{name} must be a whole number of megabytes (0 or more), not {raw!r}.")
    return value


def _as_log_level(name: str, raw: Any) -> str:
    text = str(raw).strip().lower()
    if text not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"{name} must be one of debug, info, warning or error, not {raw!r}.")
    return text


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set. Build with `Settings.load()`; tests may construct it directly."""

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    log_level: str = "info"
    log_format: str = "text"  # or "json": one JSON object per line, for journald, Loki, ELK
    workers: int = 1  # server processes of `laiban serve` on one socket
    forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-For/-Proto are believed
    session_hours: int = 12
    session_idle_minutes: int = 120  # a staff session also ends after this long without a request
    login_max_failures: int = 5
    login_window_minutes: int = 15
    secure_cookies: bool = False
    kiosk_idle_seconds: int = 60  # a kiosk goes back to its home screen after this long untouched
    contact: str = ""  # who runs this server (e-mail or URL), sent to MET Norway as they require
    smhi_base_url: str = "https://opendata-download-metfcst.smhi.se"
    metno_base_url: str = "https://api.met.no/weatherapi"
    skolmaten_base_url: str = "https://skolmaten.se"
    mashie_base_url: str = "https://sodexo.mashie.com"
    tts_engine: str = "espeak"  # the server's voice: espeak, piper or off (the kiosk uses the browser's)
    piper_voices: str = ""  # tts_engine=piper: a folder of .onnx voices, or sv=/path/a.onnx,en=…
    audio_cache_mb: int = 200  # the spoken answers kept on disk (<data_dir>/audio); 0: none
    stt_model_dir: Path | None = None  # a CTranslate2 Whisper model; unset: the kiosk does not listen
    translate_url: str = ""  # a self-hosted LibreTranslate-compatible service for suggestions; "": off

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, config_file: str | Path | None = None
    ) -> Settings:
        """Read the settings; raises ConfigError naming the first bad setting."""
        env = os.environ if environ is None else environ
        file_values = _read_toml(config_file or env.get(PREFIX + "CONFIG"))
        raw: dict[str, tuple[str, Any]] = {}  # field -> (setting name for messages, raw value)
        known = {f.name for f in fields(cls)}
        for key, value in file_values.items():
            if key not in known:
                raise ConfigError(f"The config file has an unknown setting {key!r}.")
            raw[key] = (f"{key} (config file)", value)
        for field_name in known:
            env_name = PREFIX + field_name.upper()
            if env_name in env:
                raw[field_name] = (env_name, env[env_name])

        def get(field_name: str, parse: Callable[[str, Any], Any], default: Any) -> Any:
            if field_name in raw:
                return parse(*raw[field_name])
            return default

        data_dir = get("data_dir", _as_path, Path(platformdirs.user_data_dir("laiban", appauthor=False)))
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "database_url": get("database_url", _as_database_url, f"sqlite:///{data_dir / 'laiban.db'}"),
            "host": get("host", _as_text, cls.host),
            "port": get("port", _as_port, cls.port),
            "secret_key": get("secret_key", _as_secret, ""),
            "log_level": get("log_level", _as_log_level, cls.log_level),
            "log_format": get("log_format", _as_log_format, cls.log_format),
            "workers": get("workers", _as_positive_int, cls.workers),
            "forwarded_allow_ips": get("forwarded_allow_ips", _as_addresses, cls.forwarded_allow_ips),
            "session_hours": get("session_hours", _as_positive_int, cls.session_hours),
            "session_idle_minutes": get("session_idle_minutes", _as_positive_int, cls.session_idle_minutes),
            "login_max_failures": get("login_max_failures", _as_positive_int, cls.login_max_failures),
            "login_window_minutes": get("login_window_minutes", _as_positive_int, cls.login_window_minutes),
            "secure_cookies": get("secure_cookies", _as_bool, cls.secure_cookies),
            "contact": get("contact", lambda _name, raw: str(raw).strip(), cls.contact),
            "kiosk_idle_seconds": get("kiosk_idle_seconds", _as_positive_int, cls.kiosk_idle_seconds),
            "tts_engine": get("tts_engine", _as_tts_engine, cls.tts_engine),
            "piper_voices": get("piper_voices", lambda _name, raw: str(raw).strip(), cls.piper_voices),
            "audio_cache_mb": get("audio_cache_mb", _as_megabytes, cls.audio_cache_mb),
            "stt_model_dir": get("stt_model_dir", _as_model_dir, None),
            "translate_url": get("translate_url", _as_optional_http_url, cls.translate_url),
        }
        for source in ("smhi", "metno", "skolmaten", "mashie"):
            name = f"{source}_base_url"
            values[name] = get(name, _as_http_url, getattr(cls, name))
        return cls(**values)

    def prepare(self) -> Settings:
        """Create the data folder and, if no secret key was given, read or create the stored one.

        Returns settings with a secret key. Raises ConfigError when the folder is not usable.
        """
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # A file of its own: the server's workers and the `laiban` commands may check at the same time.
            with tempfile.TemporaryFile(dir=self.data_dir):
                pass
        except OSError as exc:
            raise ConfigError(
                f"LAIBAN_DATA_DIR {str(self.data_dir)!r} is not a writable folder ({exc.strerror})."
            ) from exc
        if self.secret_key:
            return self
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            _write_new_key(key_file)
        key = key_file.read_text().strip()
        if len(key) < 32:
            raise ConfigError(
                f"LAIBAN_SECRET_KEY is not set and the stored key {str(key_file)!r} is too short; "
                "delete the file to make a new one (staff will have to sign in again)."
            )
        return replace(self, secret_key=key)


def _write_new_key(key_file: Path) -> None:
    """Write a fresh key atomically: a crash leaves no half-written key, and of two processes
    starting at once on a new data folder, the first one's key wins and both use it."""
    temporary = key_file.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, key_file)
    except FileExistsError:
        pass  # another process won the race; its key is complete
    finally:
        temporary.unlink(missing_ok=True)


def _read_toml(path: str | Path | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"The config file {str(path)!r} does not exist.") from exc
    except OSError as exc:
        raise ConfigError(f"The config file {str(path)!r} cannot be read ({exc.strerror}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {str(path)!r} is not valid TOML ({exc}).") from exc
    return data
