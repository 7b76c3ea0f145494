"""Settings from the environment and the ``healthcare`` command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from healthcare.bootstrap import booking_policy, create_app, create_container
from healthcare.config import ConfigError, Settings
from healthcare.domain.policy import CLINIC_DEFAULTS, LIMITS
from healthcare.entrypoints.cli import Composition, main

SECRET = "a-production-secret-that-is-long-enough"

COMPOSITION = Composition(container=create_container, app=create_app)


def _env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": SECRET,
        "HEALTHCARE_INSTANCE_PATH": str(tmp_path / "instance"),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        **extra,
    }


# -- settings --------------------------------------------------------------------------------


def test_defaults_follow_the_spec(tmp_path: Path) -> None:
    settings = Settings.from_env({"HEALTHCARE_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == "sqlite:///healthcare.db"
    assert (settings.access_token_minutes, settings.refresh_token_days) == (15, 7)
    assert settings.max_content_length == 1024 * 1024
    assert settings.ratelimit_storage_uri == ""  # the database
    assert (
        settings.argon2_time_cost,
        settings.argon2_memory_cost,
        settings.argon2_parallelism,
    ) == (
        2,
        19456,
        1,
    )


def test_the_development_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings.from_env({"HEALTHCARE_INSTANCE_PATH": str(tmp_path)})
    second = Settings.from_env({"HEALTHCARE_INSTANCE_PATH": str(tmp_path)})
    assert first.jwt_secret_key == second.jwt_secret_key
    assert len(first.jwt_secret_key or "") >= 32
    mode = stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    "environ,words",
    [
        ({"ACCESS_TOKEN_MINUTES": "soon"}, "ACCESS_TOKEN_MINUTES"),
        ({"ACCESS_TOKEN_MINUTES": "0"}, "ACCESS_TOKEN_MINUTES"),
        ({"REFRESH_TOKEN_DAYS": "9999"}, "REFRESH_TOKEN_DAYS"),
        ({"LOGIN_RATE_LIMIT": "lots"}, "LOGIN_RATE_LIMIT"),
        ({"DATABASE_URL": "healthcare.db"}, "DATABASE_URL"),
        ({"MAX_CONTENT_LENGTH": "-5"}, "MAX_CONTENT_LENGTH"),
        ({"HEALTHCARE_ENV": "staging"}, "HEALTHCARE_ENV"),
        ({"HEALTHCARE_DEBUG": "maybe"}, "HEALTHCARE_DEBUG"),
        ({"HEALTHCARE_ENV": "production"}, "JWT_SECRET_KEY is required"),
        ({"HEALTHCARE_ENV": "production", "JWT_SECRET_KEY": "short"}, "at least 32 bytes"),
        (
            {"HEALTHCARE_ENV": "production", "JWT_SECRET_KEY": SECRET, "HEALTHCARE_DEBUG": "1"},
            "debug",
        ),
    ],
)
def test_a_wrong_setting_fails_with_one_line_naming_it(
    tmp_path: Path, environ: dict[str, str], words: str
) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"HEALTHCARE_INSTANCE_PATH": str(tmp_path), **environ})
    assert words in str(error.value) and "\n" not in str(error.value)


def test_every_setting_is_declared_once_and_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("### PostgreSQL")]
    names = [name for d in Settings.declarations() for name in d.names]
    assert len(names) == len(set(names))
    assert [name for name in names if f"`{name}`" not in table] == []


@pytest.mark.parametrize(
    "variable,limit",
    [
        ("BOOKING_MIN_NOTICE_MINUTES", "min_notice_minutes"),
        ("BOOKING_HORIZON_DAYS", "horizon_days"),
        ("BOOKING_BUFFER_MINUTES", "buffer_minutes"),
        ("BOOKING_MAX_PER_DAY", "max_per_day"),
        ("LATE_CANCEL_HOURS", "late_cancel_hours"),
    ],
)
def test_the_clinic_booking_policy_settings_take_the_domains_bounds(
    tmp_path: Path, variable: str, limit: str
) -> None:
    bounds = LIMITS[limit]
    base = {"HEALTHCARE_INSTANCE_PATH": str(tmp_path)}
    for wrong in (bounds.low - 1, bounds.high + 1):
        with pytest.raises(ConfigError) as error:
            Settings.from_env({**base, variable: str(wrong)})
        assert str(error.value).startswith(variable)
        assert f"from {bounds.low} to {bounds.high}" in str(error.value)
    policy = booking_policy(Settings.from_env({**base, variable: str(bounds.high)}))
    assert getattr(policy, limit) == bounds.high
    assert booking_policy(Settings.from_env(base)) == CLINIC_DEFAULTS


def test_every_setting_with_a_variable_is_read_from_it(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"HEALTHCARE_INSTANCE_PATH": str(tmp_path), "RETRY_AFTER_SECONDS": "9", "FLASK_DEBUG": "1"}
    )
    assert (settings.retry_after_seconds, settings.debug) == (9, True)


@pytest.mark.parametrize("uri", ["memory://", "nosuchstore://host", "just-text"])
def test_sign_in_counters_are_shared_or_the_setting_is_refused(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ConfigError, match="^RATELIMIT_STORAGE_URI "):
        Settings.from_env({"HEALTHCARE_INSTANCE_PATH": str(tmp_path), "RATELIMIT_STORAGE_URI": uri})


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    dev = Settings.from_env({"HEALTHCARE_INSTANCE_PATH": str(tmp_path)}).jwt_secret_key
    with pytest.raises(ConfigError, match="development secret"):
        Settings.from_env(
            {
                "HEALTHCARE_INSTANCE_PATH": str(tmp_path),
                "HEALTHCARE_ENV": "production",
                "JWT_SECRET_KEY": dev or "",
            }
        )
    production = Settings.from_env(
        {"HEALTHCARE_ENV": "production", "JWT_SECRET_KEY": SECRET, "DATABASE_URL": "sqlite:///x.db"}
    )
    assert production.is_production and "jwt_secret_key" not in production.describe()


# -- the command line ------------------------------------------------------------------------


def test_create_user_prints_the_user_as_json(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(database_url, tmp_path)
    upgraded = runner.invoke(main, ["db", "upgrade"], env=env, obj=COMPOSITION)
    assert upgraded.exit_code == 0, upgraded.output
    result = runner.invoke(
        main,
        obj=COMPOSITION,
        args=[
            "create-user",
            "--email",
            "Boss@Clinic.test",
            "--password",
            "a-good-password",
            "--role",
            "admin",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": 1, "email": "boss@clinic.test", "role": "admin"}

    doctor = runner.invoke(
        main,
        obj=COMPOSITION,
        args=[
            "create-user",
            "--email",
            "doc@clinic.test",
            "--password",
            "a-good-password",
            "--role",
            "doctor",
            "--name",
            "Dr. Doc",
        ],
        env=env,
    )
    assert doctor.exit_code == 0, doctor.output
    assert json.loads(doctor.stdout)["role"] == "doctor"

    again = runner.invoke(
        main,
        obj=COMPOSITION,
        args=[
            "create-user",
            "--email",
            "boss@clinic.test",
            "--password",
            "a-good-password",
            "--role",
            "admin",
        ],
        env=env,
    )
    assert again.exit_code == 1
    assert again.stderr.strip() == "Error: A user with that email already exists."


def test_a_wrong_setting_stops_the_command_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        obj=COMPOSITION,
        args=["db", "upgrade"],
        env=_env("sqlite:///x.db", tmp_path, ACCESS_TOKEN_MINUTES="soon"),
    )
    assert result.exit_code == 3  # configuration invalid
    assert result.stderr.strip().splitlines() == [
        "Error: configuration error: ACCESS_TOKEN_MINUTES must be an integer, got 'soon'"
    ]
    assert "Traceback" not in result.output


def test_create_user_refuses_an_unknown_role(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        obj=COMPOSITION,
        args=["create-user", "--email", "a@b.test", "--password", "a-good-password", "--role", "root"],
        env=_env(f"sqlite:///{tmp_path}/h.db", tmp_path),
    )
    assert result.exit_code == 2 and "root" in result.stderr
