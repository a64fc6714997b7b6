"""One typed settings object, read from the environment and an optional .env file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.detection import DEFAULT_THRESHOLD, PRECISIONS
from bot.geo import DEFAULT_MAX_KM_PER_DAY, DEFAULT_REGION, Region

PREFIX = "LW_"
OPTIONAL_PATHS = ("protected_areas", "mailboxes_file")  # paths whose default is None, not a Path


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    token: str = ""
    # One folder for what the bot keeps (bot.config.data_dir_for): the database, photos and backups, unless
    # LW_DATABASE or LW_PHOTO_DIR set them apart. Settings.load makes all three absolute.
    data_dir: Path = Path("data")
    database: Path = Path("data/leopard-watch.sqlite3")
    photo_dir: Path = Path("data/photos")
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    threshold: float = DEFAULT_THRESHOLD
    timezone: str = "Asia/Aqtau"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # A self-hosted Bot API server started with --local (docs/OPERATORS.md, "Videos over 20 MB"): files up
    # to 2 GB, read from its folder on this machine instead of downloaded.
    local_mode: bool = False
    # How long a photo without a place waits for the ranger's location or station code.
    pairing_minutes: int = 10
    # Movement analysis: earlier confirmed sightings within this many days are compared.
    movement_days: int = 60
    max_km_per_day: float = DEFAULT_MAX_KM_PER_DAY
    # Untrusted groups see coordinates snapped to this grid (poaching risk).
    untrusted_grid_km: float = 10.0
    # Photos of one event (same station or this close, within burst_minutes) share one alert.
    burst_minutes: int = 10
    burst_radius_m: float = 500.0
    detector_threads: int = 0  # 0 = all cores
    detector_workers: int = 2
    # "auto": the INT8 model where the CPU has fast INT8 (VNNI, ARM dot product), else fp32 (bot/precision).
    detector_precision: str = "auto"
    summary_weekday: int = 0  # Monday
    summary_hour: int = 9
    log_level: str = "INFO"
    # Another process polling this token (409 Conflict) or a webhook set for it, this many minutes on end:
    # the bot exits with code 4 (bot/botapi/polling.py), so systemd and the admins see it.
    conflict_minutes: float = 5.0
    # No getUpdates answered for this long: the admins are told once (bot/botapi/polling.py); the heartbeat
    # file beside the database is what doctor and an outside monitor read meanwhile.
    heartbeat_minutes: float = 15.0
    # "south,west,north,east": typed coordinates outside it are questioned (swapped?) or flagged.
    region: str = DEFAULT_REGION
    # Exports for scientists (Camtrap DP, Darwin Core CSV): SPDX licence ids for the data and the photos,
    # and the contact GBIF and data users write to. CC-BY-4.0 is what GBIF accepts and keeps attribution.
    data_license: str = "CC-BY-4.0"
    media_license: str = "CC-BY-4.0"
    contact_name: str = ""
    contact_email: str = ""
    # A GeoJSON file of protected-area outlines (Ustyurt reserve, Kyzylsai park) drawn on every map.
    protected_areas: Path | None = None
    # Cellular cameras that e-mail photos (bot/cameras/mail/, docs/OPERATORS.md, "Cellular cameras"): an
    # IMAP mailbox, polled when mail_host is set, and/or more in mailboxes_file, as
    # bot/cameras/mail/accounts.py lists them.
    # mail_port 0 means the usual port of mail_tls (993 ssl, 143 otherwise).
    mail_host: str = ""
    mail_port: int = 0
    mail_tls: str = "ssl"
    mail_user: str = ""
    mail_password: str = field(default="", repr=False)  # never in a repr, so never in a log line
    mail_folder: str = "INBOX"
    mail_done_folder: str = ""  # handled mail is moved there; empty: it is marked read (\Seen)
    mail_poll_seconds: float = 60.0
    mail_idle: str = "auto"  # auto: IMAP IDLE where the server offers it (new mail in seconds); off: polling
    mailboxes_file: Path | None = None  # TOML [[mailbox]] tables: more mailboxes, each polled on its own
    mail_allow: str = ""  # senders whose photos may alert besides registered cameras: a@b.kz, @domain.kz
    mail_max_mb: float = 25.0  # bigger messages are not downloaded
    cameras_file: str = ""  # TOML list of cameras, read at start (bot/cameras/registry.py load_file)
    camera_silent_days: int = 3  # the weekly summary lists cameras that sent nothing for this long
    check_due_days: int = 30  # ... and deployed cameras nobody has visited (/check) for this long
    camera_moved_m: float = 300.0  # a camera's own GPS this far from its station: reported as moved
    # ... and this far (or outside LW_REGION) it is not believed at all: the station's place stands.
    camera_gps_max_km: float = 50.0
    # The authserv-id the mailbox's provider writes in Authentication-Results (mx.google.com, or a domain):
    # set, only mail that provider found DMARC- (or SPF/DKIM-) aligned with its From may alert.
    mail_auth_server: str = ""

    @property
    def mail_allow_list(self) -> frozenset[str]:
        return frozenset(a.strip().lower() for a in self.mail_allow.replace(";", ",").split(",") if a.strip())

    @property
    def backup_dir(self) -> Path:
        """Where `leopard-watch backup` writes when given no file."""
        return self.data_dir / "backups"

    @property
    def heartbeat_file(self) -> Path:
        """Its mtime is the bot's last successful poll of Telegram (beside the database, as its run lock)."""
        return self.database.with_name(self.database.name + ".heartbeat")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def bounds(self) -> Region:
        return Region.parse(self.region)

    @property
    def threads(self) -> int:
        return self.detector_threads or os.cpu_count() or 1

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def load(cls, env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None) -> Settings:
        """Environment variables win over the .env file; unknown LW_ variables are an error. Paths are made
        absolute here, never left to the current folder (see data_dir_for)."""
        values: dict[str, str] = {}
        base: Path | None = None  # the folder of the settings file read, if one was
        if env_file and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
            base = Path(env_file).resolve().parent
        values.update(os.environ if environ is None else environ)
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, object] = {}
        for key, raw in values.items():
            if not key.startswith(PREFIX):
                continue
            name = key[len(PREFIX) :].lower()
            if name not in known:
                raise ConfigError(f"unknown setting {key}; see .env.example")
            kwargs[name] = _convert(key, name, raw)
        kwargs.update(_placed(kwargs, base))
        settings = cls(**kwargs)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"LW_TIMEZONE: unknown time zone {self.timezone!r}") from exc
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError("LW_THRESHOLD must be between 0 and 1")
        if not 0 <= self.summary_weekday <= 6 or not 0 <= self.summary_hour <= 23:
            raise ConfigError("LW_SUMMARY_WEEKDAY is 0-6 (Monday=0), LW_SUMMARY_HOUR 0-23")
        if self.detector_workers < 1 or self.detector_threads < 0:
            raise ConfigError("LW_DETECTOR_WORKERS must be >= 1 and LW_DETECTOR_THREADS >= 0")
        if self.detector_precision not in PRECISIONS:
            raise ConfigError(f"LW_DETECTOR_PRECISION is one of {', '.join(PRECISIONS)}")
        if self.conflict_minutes <= 0:
            raise ConfigError("LW_CONFLICT_MINUTES must be > 0")
        if self.heartbeat_minutes <= 0:
            raise ConfigError("LW_HEARTBEAT_MINUTES must be > 0")
        if self.pairing_minutes < 0 or self.burst_minutes < 0 or self.movement_days < 1:
            raise ConfigError("LW_PAIRING_MINUTES, LW_BURST_MINUTES >= 0 and LW_MOVEMENT_DAYS >= 1")
        try:
            Region.parse(self.region)
        except ValueError as exc:
            raise ConfigError(f"LW_REGION: {exc}") from exc
        if self.contact_email and "@" not in self.contact_email:
            raise ConfigError("LW_CONTACT_EMAIL must be an e-mail address")
        _validate_mail(self)


def data_dir_for(raw: Path | None, base: Path | None) -> Path:
    """LW_DATA_DIR, absolute. Unset: `data` beside the settings file (where a deployment run from its
    folder has always kept it, so nothing moves), else, with no settings file at all, the XDG data folder
    (~/.local/share/leopard-watch). A relative value is read against the settings file's folder."""
    if raw is None:
        if base is not None:
            return base / "data"
        xdg = Path(os.environ.get("XDG_DATA_HOME") or "~/.local/share").expanduser()
        return xdg.resolve() / "leopard-watch"
    return raw if raw.is_absolute() else (base or Path.cwd()).resolve() / raw


def _placed(kwargs: dict[str, object], base: Path | None) -> dict[str, Path]:
    """The data folder, and the database and photo folder under it unless given as absolute paths."""
    raw = kwargs.get("data_dir")
    data_dir = data_dir_for(raw if isinstance(raw, Path) else None, base)
    out = {"data_dir": data_dir}
    for name, key, default in (("database", "LW_DATABASE", "leopard-watch.sqlite3"),
                               ("photo_dir", "LW_PHOTO_DIR", "photos")):  # fmt: skip
        given = kwargs.get(name)
        path = data_dir / (given if isinstance(given, Path) else default)
        old = (base / given) if isinstance(given, Path) and not given.is_absolute() and base else None
        if old is not None and old != path and old.exists() and not path.exists():
            # Before LW_DATA_DIR a relative path was read against the current folder (the settings file's,
            # as docs/DEPLOY.md runs it): say where the data is rather than start an empty database.
            raise ConfigError(
                f"{key}={given} now means {path} (relative paths are under LW_DATA_DIR, {data_dir}), "
                f"but the data is at {old}: delete the {key} line (the default is {data_dir / default}) "
                f"or write {old}"
            )
        out[name] = path
    return out


def _convert(key: str, name: str, raw: str) -> object:
    raw = raw.strip()
    default = getattr(Settings(), name)
    try:
        if isinstance(default, frozenset):
            return frozenset(int(x) for x in raw.replace(";", ",").split(",") if x.strip())
        if isinstance(default, Path) or name in OPTIONAL_PATHS:
            return Path(raw).expanduser() if raw else None
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{key}: cannot read {raw!r} as {type(default).__name__}") from exc
    return raw


def _validate_mail(s: Settings) -> None:
    if s.check_due_days < 1:
        raise ConfigError("LW_CHECK_DUE_DAYS must be >= 1")
    if s.camera_silent_days < 1 or s.camera_moved_m <= 0:
        raise ConfigError("LW_CAMERA_SILENT_DAYS must be >= 1 and LW_CAMERA_MOVED_M > 0")
    if s.camera_gps_max_km * 1000 <= s.camera_moved_m:
        raise ConfigError("LW_CAMERA_GPS_MAX_KM must be more than LW_CAMERA_MOVED_M (in metres)")
    if s.mail_max_mb <= 0:
        raise ConfigError("LW_MAIL_MAX_MB must be > 0")
    # The mailboxes these settings name (LW_MAIL_*, LW_MAILBOXES_FILE) are checked by the command that
    # loads them (bot/cli/main.py load_settings): reading files is not the settings' job.
