"""Settings, read once from the environment at start (SPEC section 7).

Each setting is declared once, as a field of :class:`Settings`: its environment variable, its
default, the values it takes and so its error message all come from that one line. A wrong or
missing setting raises :class:`ConfigError` with one line that names it; the command line prints
that line and exits, without a traceback. Adding a setting is one line::

    hold_minutes: int = integer("HOLD_MINUTES", 10, 1, 24 * 60)

The booking policy's bounds and defaults are the domain's (``domain.policy``); nothing else of
the package is imported, so every process can read its settings before anything is built.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from healthcare.domain.policy import CLINIC_DEFAULTS, LIMITS

ENVIRONMENTS = ("development", "test", "production")
DEV_SECRET_FILE = "jwt-secret"
MIN_SECRET_BYTES = 32
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
#: The ``field`` metadata key under which a setting's declaration is kept.
DECLARED = "setting"


class ConfigError(Exception):
    """A setting is wrong or missing. ``str(error)`` is the one line to show the operator."""


# -- declarations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    """How one setting is read and checked.

    ``parse`` turns the variable's text into a value and ``complaint`` says what is wrong with a
    value (None: nothing); both messages follow the variable's name. The first of ``names`` that
    is set is read.
    """

    names: tuple[str, ...]
    parse: Callable[[str], Any]
    complaint: Callable[[Any], str | None]
    #: Kept out of logs and ``describe()``.
    secret: bool = False

    @property
    def name(self) -> str:
        return self.names[0]

    def read(self, environ: Mapping[str, str]) -> tuple[bool, Any]:
        """(found, value): whether the environment sets it, and the parsed value."""
        for name in self.names:
            if name in environ:
                try:
                    return True, self.parse(environ[name])
                except ValueError as error:
                    raise ConfigError(f"{name} {error}") from None
        return False, None

    def check(self, value: Any) -> None:
        problem = self.complaint(value)
        if problem is not None:
            raise ConfigError(f"{self.name} {problem}")


def _declared(default: Any, declaration: Declaration) -> Any:
    return field(
        default=default, repr=not declaration.secret, metadata={DECLARED: declaration}
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_int(raw: str) -> int | None:
    """Blank is "not set" (None); anything else must be an integer."""
    if not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"must be an integer, got {raw!r}") from None


def integer(name: str, default: int, low: int, high: int) -> Any:
    """An integer from ``low`` to ``high``; blank means the default."""

    def complaint(value: Any) -> str | None:
        if _is_int(value) and low <= value <= high:
            return None
        return f"must be an integer from {low} to {high}, got {value!r}"

    def parse(raw: str) -> int:
        value = _parse_int(raw)
        return default if value is None else value

    return _declared(default, Declaration((name,), parse, complaint))


def optional_integer(name: str, low: int, high: int) -> Any:
    """Unset (blank) or an integer from ``low`` to ``high``."""

    def complaint(value: Any) -> str | None:
        if value is None or (_is_int(value) and low <= value <= high):
            return None
        return f"must be unset or an integer from {low} to {high}, got {value!r}"

    return _declared(None, Declaration((name,), _parse_int, complaint))


def policy_limit(name: str, limit: str) -> Any:
    """A clinic-wide booking policy value: the domain's default and bounds (``LIMITS``)."""
    bounds, default = LIMITS[limit], getattr(CLINIC_DEFAULTS, limit)
    if default is None:
        return optional_integer(name, bounds.low, bounds.high)
    return integer(name, default, bounds.low, bounds.high)


def _parse_bool(raw: str) -> bool:
    """true/false, yes/no, on/off, 1/0; blank is false."""
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def boolean(*names: str, default: bool) -> Any:
    """true/false, yes/no, on/off, 1/0; blank is false."""

    def complaint(value: Any) -> str | None:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"

    return _declared(default, Declaration(names, _parse_bool, complaint))


def optional_boolean(name: str) -> Any:
    """Unset (its default depends on other settings), or true/false."""

    def complaint(value: Any) -> str | None:
        return None if value is None or isinstance(value, bool) else f"must be true or false, got {value!r}"

    return _declared(None, Declaration((name,), _parse_bool, complaint))


def text(
    name: str,
    default: str | None,
    complaint: Callable[[Any], str | None] = lambda value: None,
    *,
    strip: bool = False,
    secret: bool = False,
) -> Any:
    def parse(raw: str) -> str:
        return raw.strip() if strip else raw

    return _declared(default, Declaration((name,), parse, complaint, secret=secret))


def choice(name: str, default: str, options: tuple[str, ...]) -> Any:
    """One of ``options``, compared without case or surrounding blanks."""

    def complaint(value: Any) -> str | None:
        if value in options:
            return None
        return f"must be one of {', '.join(options)}, got {value!r}"

    return _declared(default, Declaration((name,), lambda raw: raw.strip().lower(), complaint))


def rate_limit(name: str, default: str) -> Any:
    """Attempts per window, in the ``limits`` library's notation: ``5 per minute``,
    ``5/minute;50/hour``."""
    return text(name, default, _not_a_rate_limit)


def _not_a_rate_limit(value: Any) -> str | None:
    from limits import parse_many  # the library that reads them at run time

    try:
        if isinstance(value, str) and parse_many(value):
            return None
    except ValueError:
        pass
    return f"is not a rate limit: {value!r} (e.g. '5 per minute' or '5/minute;50/hour')"


def _not_a_database_url(value: Any) -> str | None:
    if isinstance(value, str) and "://" in value:
        return None
    return (
        f"is not a database URL: {value!r} "
        "(e.g. sqlite:///healthcare.db or postgresql+psycopg2://user:pw@host/db)"
    )


def _not_a_counter_store(value: Any) -> str | None:
    """Blank: the application's database. Otherwise a store the ``limits`` library reaches
    (``redis://host:6379/0``, ``rediss://``, ``redis+sentinel://``, ...), shared by every
    process; ``memory://`` counts in one process only, which is what let a guesser through."""
    if value == "":
        return None
    if not isinstance(value, str) or value.startswith("memory://"):
        return f"must be blank (the database) or a shared store such as redis://host:6379/0, got {value!r}"
    from limits.errors import ConfigurationError as UnknownStore
    from limits.storage import storage_from_string

    try:
        storage_from_string(value)  # checks the scheme and its driver; connects to nothing
    except UnknownStore as error:
        return f"is not a usable counter store: {value!r} ({error})"
    return None


# -- the settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    env: str = choice("HEALTHCARE_ENV", "development", ENVIRONMENTS)
    database_url: str = text("DATABASE_URL", "sqlite:///healthcare.db", _not_a_database_url)
    #: ``None`` only until :meth:`from_env` fills in the development secret.
    jwt_secret_key: str | None = text("JWT_SECRET_KEY", None, secret=True)
    access_token_minutes: int = integer("ACCESS_TOKEN_MINUTES", 15, 1, 24 * 60)
    refresh_token_days: int = integer("REFRESH_TOKEN_DAYS", 7, 1, 365)
    # Section 8: how long a hold keeps a slot, how many a patient keeps at once, and how long
    # a waitlist offer (a hold too) waits to be booked.
    hold_minutes: int = integer("HOLD_MINUTES", 10, 1, 24 * 60)
    hold_max_per_patient: int = integer("HOLD_MAX_PER_PATIENT", 2, 1, 100)
    waitlist_offer_minutes: int = integer("WAITLIST_OFFER_MINUTES", 30, 1, 7 * 24 * 60)
    #: Failed sign-ins allowed for one account from one client address ...
    login_rate_limit: str = rate_limit("LOGIN_RATE_LIMIT", "5 per minute")
    #: ... and from one client address, whatever the accounts.
    login_address_rate_limit: str = rate_limit("LOGIN_ADDRESS_RATE_LIMIT", "20 per minute")
    #: Where failed sign-ins are counted: blank for the database, or a Redis URL.
    ratelimit_storage_uri: str = text("RATELIMIT_STORAGE_URI", "", _not_a_counter_store, strip=True)
    #: Namespaces the counters when several deployments share one Redis.
    ratelimit_key_prefix: str = text("RATELIMIT_KEY_PREFIX", "healthcare")
    max_content_length: int = integer("MAX_CONTENT_LENGTH", 1024 * 1024, 1024, 1024**3)
    #: argon2id at the OWASP baseline: 19 MiB, 2 iterations, 1 lane.
    argon2_time_cost: int = integer("ARGON2_TIME_COST", 2, 1, 100)
    argon2_memory_cost: int = integer("ARGON2_MEMORY_COST", 19456, 8, 4 * 1024 * 1024)
    argon2_parallelism: int = integer("ARGON2_PARALLELISM", 1, 1, 64)
    instance_path: str = text("HEALTHCARE_INSTANCE_PATH", "instance")
    debug: bool = boolean("HEALTHCARE_DEBUG", "FLASK_DEBUG", default=False)
    statement_timeout_ms: int = integer("DB_STATEMENT_TIMEOUT_MS", 15000, 0, 24 * 3600 * 1000)
    db_pool_size: int = integer("DB_POOL_SIZE", 10, 1, 1000)
    #: Seconds a client is told to wait (Retry-After) when the database is unreachable.
    retry_after_seconds: int = integer("RETRY_AFTER_SECONDS", 5, 1, 3600)
    #: Reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust; 0 trusts none.
    #: Behind a proxy it must be set, or every client shares the proxy's sign-in throttle.
    proxy_hops: int = integer("PROXY_HOPS", 0, 0, 10)
    #: Batch jobs: how long after its end a confirmed appointment counts as a no-show.
    no_show_grace_minutes: int = integer("NO_SHOW_GRACE_MINUTES", 60, 0, 7 * 24 * 60)
    #: The clinic's booking policy; an admin may set each doctor's own. Notice, horizon and
    #: the daily cap bind patients; the buffer after each appointment binds everyone.
    booking_min_notice_minutes: int = policy_limit("BOOKING_MIN_NOTICE_MINUTES", "min_notice_minutes")
    booking_horizon_days: int = policy_limit("BOOKING_HORIZON_DAYS", "horizon_days")
    booking_buffer_minutes: int = policy_limit("BOOKING_BUFFER_MINUTES", "buffer_minutes")
    #: Unset: no daily cap.
    booking_max_per_day: int | None = policy_limit("BOOKING_MAX_PER_DAY", "max_per_day")
    #: A cancellation this close to the start is allowed but recorded as late.
    late_cancel_hours: int = policy_limit("LATE_CANCEL_HOURS", "late_cancel_hours")
    #: Reminders go by SMTP when a host is set; otherwise they are logged (no content).
    smtp_host: str = text("SMTP_HOST", "", strip=True)
    smtp_port: int = integer("SMTP_PORT", 587, 1, 65535)
    smtp_from: str = text("SMTP_FROM", "clinic@localhost", strip=True)
    smtp_username: str = text("SMTP_USERNAME", "")
    smtp_password: str = text("SMTP_PASSWORD", "", secret=True)
    smtp_starttls: bool = boolean("SMTP_STARTTLS", default=True)
    #: Webhook URLs may point at private, loopback and link-local addresses (and use http
    #: there). Unset: true in development and tests, false in production.
    webhook_allow_private: bool | None = optional_boolean("WEBHOOK_ALLOW_PRIVATE")
    #: ``deliver-webhooks``: attempts at once per worker, and at most this many to one endpoint.
    webhook_threads: int = integer("WEBHOOK_THREADS", 16, 1, 256)
    webhook_per_endpoint: int = integer("WEBHOOK_PER_ENDPOINT", 4, 1, 256)
    #: How long a claimed attempt stays reserved to its worker: longer than it can wait for
    #: its endpoint's turn and then take (10 s each), so only a worker that died gives one up,
    #: to be made again after this.
    webhook_lease_seconds: int = integer("WEBHOOK_LEASE_SECONDS", 60, 30, 3600)
    #: Whether ``jwt_secret_key`` is the generated development secret (refused in production).
    dev_secret: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        for name, declaration in _declared_fields():
            declaration.check(getattr(self, name))
        if self.webhook_allow_private is None:
            object.__setattr__(self, "webhook_allow_private", not self.is_production)
        if self.webhook_per_endpoint > self.webhook_threads:
            raise ConfigError(
                f"WEBHOOK_PER_ENDPOINT ({self.webhook_per_endpoint}) must not exceed "
                f"WEBHOOK_THREADS ({self.webhook_threads})"
            )
        if not self.jwt_secret_key:
            raise ConfigError(f"JWT_SECRET_KEY is required when HEALTHCARE_ENV={self.env}")
        if self.is_production:
            if self.dev_secret:
                raise ConfigError(
                    "JWT_SECRET_KEY is the generated development secret; set a production secret"
                )
            if self.debug:
                raise ConfigError("debug mode is refused when HEALTHCARE_ENV=production")
            if len(self.jwt_secret_key.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"JWT_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
                )

    @classmethod
    def declarations(cls) -> list[Declaration]:
        """Every setting read from the environment, in order."""
        return [declaration for _, declaration in _declared_fields()]

    # -- reading -----------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``environ`` (default ``os.environ``); ``overrides`` win over both."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, declaration in _declared_fields():
            found, value = declaration.read(env)
            if found:
                values[name] = value
        values.update(overrides)
        values["jwt_secret_key"] = values.get("jwt_secret_key") or None
        instance = Path(values.get("instance_path", cls.instance_path))
        environment = values.get("env", cls.env)
        if values["jwt_secret_key"] is None and environment in ("development", "test"):
            values["jwt_secret_key"] = development_secret(instance)
            values["dev_secret"] = True
        elif environment == "production" and values["jwt_secret_key"] is not None:
            values["dev_secret"] = values["jwt_secret_key"] == _stored_dev_secret(instance)
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    # -- reading back ------------------------------------------------------------------------

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def describe(self) -> dict[str, Any]:
        """The settings without secrets, for a start-up log line."""
        hidden = {name for name, declaration in _declared_fields() if declaration.secret}
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}
        shown["database_url"] = _hide_password(self.database_url)
        return shown


def _declared_fields() -> list[tuple[str, Declaration]]:
    """(field name, declaration) of every setting read from the environment, in order."""
    return [(f.name, f.metadata[DECLARED]) for f in fields(Settings) if DECLARED in f.metadata]


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


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
