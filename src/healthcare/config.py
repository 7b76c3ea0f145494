"""Settings, read once from the environment at start (SPEC section 7).

A wrong or missing setting raises :class:`ConfigError` with one line that names it; the command
line prints that line and exits, without a traceback. Nothing here imports the rest of the
package, so every process can read its settings before anything else is built.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "test", "production")
DEV_SECRET_FILE = "jwt-secret"
MIN_SECRET_BYTES = 32
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """A setting is wrong or missing. ``str(error)`` is the one line to show the operator."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = "sqlite:///healthcare.db"
    #: ``None`` only until :meth:`from_env` fills in the development secret.
    jwt_secret_key: str | None = None
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    #: Failed sign-ins allowed per account (email) ...
    login_rate_limit: str = "5 per minute"
    #: ... and per client address, which tries many accounts.
    login_address_rate_limit: str = "20 per minute"
    ratelimit_storage_uri: str = "memory://"
    #: Namespaces the counters when several deployments share one Redis.
    ratelimit_key_prefix: str = "healthcare"
    max_content_length: int = 1024 * 1024
    #: argon2id at the OWASP baseline: 19 MiB, 2 iterations, 1 lane.
    argon2_time_cost: int = 2
    argon2_memory_cost: int = 19456
    argon2_parallelism: int = 1
    instance_path: str = "instance"
    debug: bool = False
    statement_timeout_ms: int = 15000
    db_pool_size: int = 10
    #: Seconds a client is told to wait (Retry-After) when the database is unreachable.
    retry_after_seconds: int = 5
    #: Reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust; 0 trusts none.
    #: Behind a proxy it must be set, or every client shares the proxy's sign-in throttle.
    proxy_hops: int = 0
    #: Batch jobs: how long after its end a confirmed appointment counts as a no-show.
    no_show_grace_minutes: int = 60
    #: The clinic's booking policy; an admin may set each doctor's own. Notice, horizon and
    #: the daily cap bind patients; the buffer after each appointment binds everyone.
    booking_min_notice_minutes: int = 120
    booking_horizon_days: int = 90
    booking_buffer_minutes: int = 0
    #: Unset: no daily cap.
    booking_max_per_day: int | None = None
    #: A cancellation this close to the start is allowed but recorded as late.
    late_cancel_hours: int = 24
    #: Reminders go by SMTP when a host is set; otherwise they are logged (no content).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_from: str = "clinic@localhost"
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    #: Webhook URLs may point at private, loopback and link-local addresses (and use http
    #: there). None until :meth:`from_env`: true in development and tests, false in production.
    webhook_allow_private: bool | None = None
    #: ``deliver-webhooks``: attempts at once per worker, and at most this many to one endpoint.
    webhook_threads: int = 16
    webhook_per_endpoint: int = 4
    #: How long a claimed attempt stays reserved to its worker: longer than it can wait for
    #: its endpoint's turn and then take (10 s each), so only a worker that died gives one up,
    #: to be made again after this.
    webhook_lease_seconds: int = 60
    #: Whether ``jwt_secret_key`` is the generated development secret (refused in production).
    dev_secret: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.webhook_allow_private is None:
            object.__setattr__(self, "webhook_allow_private", self.env != "production")
        self._validate()

    # -- reading -----------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``environ`` (default ``os.environ``); ``overrides`` win over both."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {
            "env": env.get("HEALTHCARE_ENV", "development").strip().lower(),
            "database_url": env.get("DATABASE_URL", cls.database_url),
            "jwt_secret_key": env.get("JWT_SECRET_KEY") or None,
            "access_token_minutes": _int(env, "ACCESS_TOKEN_MINUTES", cls.access_token_minutes),
            "refresh_token_days": _int(env, "REFRESH_TOKEN_DAYS", cls.refresh_token_days),
            "login_rate_limit": env.get("LOGIN_RATE_LIMIT", cls.login_rate_limit),
            "login_address_rate_limit": env.get(
                "LOGIN_ADDRESS_RATE_LIMIT", cls.login_address_rate_limit
            ),
            "ratelimit_storage_uri": env.get("RATELIMIT_STORAGE_URI", cls.ratelimit_storage_uri),
            "ratelimit_key_prefix": env.get("RATELIMIT_KEY_PREFIX", cls.ratelimit_key_prefix),
            "max_content_length": _int(env, "MAX_CONTENT_LENGTH", cls.max_content_length),
            "argon2_time_cost": _int(env, "ARGON2_TIME_COST", cls.argon2_time_cost),
            "argon2_memory_cost": _int(env, "ARGON2_MEMORY_COST", cls.argon2_memory_cost),
            "argon2_parallelism": _int(env, "ARGON2_PARALLELISM", cls.argon2_parallelism),
            "instance_path": env.get("HEALTHCARE_INSTANCE_PATH", cls.instance_path),
            "debug": _bool(env, "HEALTHCARE_DEBUG", _bool(env, "FLASK_DEBUG", False)),
            "statement_timeout_ms": _int(env, "DB_STATEMENT_TIMEOUT_MS", cls.statement_timeout_ms),
            "db_pool_size": _int(env, "DB_POOL_SIZE", cls.db_pool_size),
            "proxy_hops": _int(env, "PROXY_HOPS", cls.proxy_hops),
            "no_show_grace_minutes": _int(env, "NO_SHOW_GRACE_MINUTES", cls.no_show_grace_minutes),
            "booking_min_notice_minutes": _int(
                env, "BOOKING_MIN_NOTICE_MINUTES", cls.booking_min_notice_minutes
            ),
            "booking_horizon_days": _int(env, "BOOKING_HORIZON_DAYS", cls.booking_horizon_days),
            "booking_buffer_minutes": _int(
                env, "BOOKING_BUFFER_MINUTES", cls.booking_buffer_minutes
            ),
            "booking_max_per_day": _optional_int(env, "BOOKING_MAX_PER_DAY"),
            "late_cancel_hours": _int(env, "LATE_CANCEL_HOURS", cls.late_cancel_hours),
            "smtp_host": env.get("SMTP_HOST", cls.smtp_host).strip(),
            "smtp_port": _int(env, "SMTP_PORT", cls.smtp_port),
            "smtp_from": env.get("SMTP_FROM", cls.smtp_from).strip(),
            "smtp_username": env.get("SMTP_USERNAME", cls.smtp_username),
            "smtp_password": env.get("SMTP_PASSWORD", cls.smtp_password),
            "smtp_starttls": _bool(env, "SMTP_STARTTLS", cls.smtp_starttls),
            "webhook_threads": _int(env, "WEBHOOK_THREADS", cls.webhook_threads),
            "webhook_per_endpoint": _int(env, "WEBHOOK_PER_ENDPOINT", cls.webhook_per_endpoint),
            "webhook_lease_seconds": _int(env, "WEBHOOK_LEASE_SECONDS", cls.webhook_lease_seconds),
        }
        if "WEBHOOK_ALLOW_PRIVATE" in env:
            values["webhook_allow_private"] = _bool(env, "WEBHOOK_ALLOW_PRIVATE", False)
        values.update(overrides)
        if values.get("env") not in ENVIRONMENTS:
            raise ConfigError(
                f"HEALTHCARE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {values['env']!r}"
            )
        if not values.get("jwt_secret_key"):
            if values["env"] == "production":
                raise ConfigError("JWT_SECRET_KEY is required when HEALTHCARE_ENV=production")
            values["jwt_secret_key"] = development_secret(Path(values["instance_path"]))
            values["dev_secret"] = True
        elif values["env"] == "production" and values["jwt_secret_key"] == _stored_dev_secret(
            Path(values["instance_path"])
        ):
            raise ConfigError(
                "JWT_SECRET_KEY is the generated development secret; set a production secret"
            )
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    # -- checks ------------------------------------------------------------------------------

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def _validate(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"HEALTHCARE_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if not self.database_url or "://" not in self.database_url:
            raise ConfigError(
                f"DATABASE_URL is not a database URL: {self.database_url!r} "
                "(e.g. sqlite:///healthcare.db or postgresql+psycopg2://user:pw@host/db)"
            )
        if not self.jwt_secret_key:
            raise ConfigError("JWT_SECRET_KEY is empty")
        for name, low, high in (
            ("access_token_minutes", 1, 24 * 60),
            ("refresh_token_days", 1, 365),
            ("max_content_length", 1024, 1024**3),
            ("argon2_time_cost", 1, 100),
            ("argon2_memory_cost", 8, 4 * 1024 * 1024),
            ("argon2_parallelism", 1, 64),
            ("statement_timeout_ms", 0, 24 * 3600 * 1000),
            ("db_pool_size", 1, 1000),
            ("retry_after_seconds", 1, 3600),
            ("proxy_hops", 0, 10),
            ("no_show_grace_minutes", 0, 7 * 24 * 60),
            # The same bounds as a doctor's own policy (domain.policy.LIMITS).
            ("booking_min_notice_minutes", 0, 7 * 24 * 60),
            ("booking_horizon_days", 1, 730),
            ("booking_buffer_minutes", 0, 8 * 60),
            ("late_cancel_hours", 0, 30 * 24),
            ("smtp_port", 1, 65535),
            ("webhook_threads", 1, 256),
            ("webhook_per_endpoint", 1, 256),
            ("webhook_lease_seconds", 30, 3600),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ConfigError(
                    f"{name.upper()} must be an integer from {low} to {high}, got {value!r}"
                )
        if self.webhook_per_endpoint > self.webhook_threads:
            raise ConfigError(
                f"WEBHOOK_PER_ENDPOINT ({self.webhook_per_endpoint}) must not exceed "
                f"WEBHOOK_THREADS ({self.webhook_threads})"
            )
        cap = self.booking_max_per_day
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= 200):
            raise ConfigError(f"BOOKING_MAX_PER_DAY must be unset or an integer from 1 to 200, got {cap!r}")
        for name in ("login_rate_limit", "login_address_rate_limit"):
            _check_rate_limit(name.upper(), getattr(self, name))
        if "://" not in self.ratelimit_storage_uri:
            raise ConfigError(
                f"RATELIMIT_STORAGE_URI is not a storage URI: {self.ratelimit_storage_uri!r} "
                "(memory:// or redis://host:6379)"
            )
        if self.is_production:
            if self.dev_secret:
                raise ConfigError("JWT_SECRET_KEY is required when HEALTHCARE_ENV=production")
            if self.debug:
                raise ConfigError("debug mode is refused when HEALTHCARE_ENV=production")
            if len(self.jwt_secret_key.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"JWT_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
                )

    def describe(self) -> dict[str, Any]:
        """The settings without secrets, for a start-up log line."""
        secret = {"jwt_secret_key", "smtp_password"}
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in secret}
        shown["database_url"] = _hide_password(self.database_url)
        return shown


# -- the development secret ------------------------------------------------------------------


def development_secret(instance_path: Path) -> str:
    """The secret kept in ``instance_path``, made once (mode 0600) and reused by every process."""
    path = instance_path / DEV_SECRET_FILE
    existing = _stored_dev_secret(instance_path)
    if existing:
        return existing
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when two workers start together, one writes and the other reads its secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _stored_dev_secret(instance_path) or _fail_secret(path)
    except OSError as exc:
        raise ConfigError(f"cannot create the development secret {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return _stored_dev_secret(instance_path) or _fail_secret(path)


def _stored_dev_secret(instance_path: Path) -> str | None:
    path = instance_path / DEV_SECRET_FILE
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the development secret {path}: {exc.strerror}") from None


def _fail_secret(path: Path) -> str:
    raise ConfigError(f"the development secret {path} is empty; delete it to make a new one")


# -- parsing ---------------------------------------------------------------------------------


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    return _int(env, name, 0)


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _check_rate_limit(name: str, value: str) -> None:
    from limits import (
        parse_many,  # flask-limiter's own parser: what it accepts, we accept
    )

    try:
        if not parse_many(value):
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"{name} is not a rate limit: {value!r} (e.g. '5 per minute' or '5/minute;50/hour')"
        ) from None


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
