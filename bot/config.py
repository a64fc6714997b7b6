"""One typed settings object, read from the environment and an optional .env file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.detector import DEFAULT_THRESHOLD
from bot.geo import DEFAULT_MAX_KM_PER_DAY
from bot.region import DEFAULT_REGION, Region

PREFIX = "LW_"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    token: str = ""
    database: Path = Path("data/leopard-watch.sqlite3")
    photo_dir: Path = Path("data/photos")
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    threshold: float = DEFAULT_THRESHOLD
    timezone: str = "Asia/Aqtau"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
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
    summary_weekday: int = 0  # Monday
    summary_hour: int = 9
    log_level: str = "INFO"
    # "south,west,north,east": typed coordinates outside it are questioned (swapped?) or flagged.
    region: str = DEFAULT_REGION

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
        """Environment variables win over the .env file; unknown LW_ variables are an error."""
        values: dict[str, str] = {}
        if env_file and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
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
        if self.pairing_minutes < 0 or self.burst_minutes < 0 or self.movement_days < 1:
            raise ConfigError("LW_PAIRING_MINUTES, LW_BURST_MINUTES >= 0 and LW_MOVEMENT_DAYS >= 1")
        try:
            Region.parse(self.region)
        except ValueError as exc:
            raise ConfigError(f"LW_REGION: {exc}") from exc


def _convert(key: str, name: str, raw: str) -> object:
    raw = raw.strip()
    default = getattr(Settings(), name)
    try:
        if isinstance(default, frozenset):
            return frozenset(int(x) for x in raw.replace(";", ",").split(",") if x.strip())
        if isinstance(default, Path):
            return Path(raw).expanduser()
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{key}: cannot read {raw!r} as {type(default).__name__}") from exc
    return raw
