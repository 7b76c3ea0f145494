"""The operator's commands: check, the batch jobs, and one real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from healthcare.bootstrap import create_app, create_container
from healthcare.config import Settings
from healthcare.entrypoints.cli import Composition, main

COMPOSITION = Composition(container=create_container, app=create_app)
SOON = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": "a-production-secret-that-is-long-enough",
        "HEALTHCARE_INSTANCE_PATH": str(tmp_path / "instance"),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
    }


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, args=list(args), env=env, obj=COMPOSITION)


def clinic_with_a_booking(env: dict[str, str]) -> None:
    """A doctor with a window tomorrow and one confirmed appointment in it, through the app."""
    app = create_app(Settings.from_env(env))
    client = app.test_client()
    run(env, "create-user", "--email", "admin@c.test", "--password", "admin-pass-1", "--role", "admin")
    run(env, "create-user", "--email", "doc@c.test", "--password", "doc-pass-12", "--role", "doctor",
        "--name", "Dr. Quinn")
    run(env, "create-user", "--email", "pat@c.test", "--password", "pat-pass-12", "--role", "patient",
        "--name", "Pat Jones")

    def token(email: str, password: str) -> dict[str, str]:
        body = client.post("/api/auth/login/", json={"email": email, "password": password}).json
        return {"Authorization": f"Bearer {body['access']}"}

    admin = token("admin@c.test", "admin-pass-1")
    window = client.post("/api/availabilities/", headers=admin, json={
        "doctor": 1, "start_time": SOON.isoformat(), "end_time": (SOON + timedelta(hours=4)).isoformat()})
    assert window.status_code == 201, window.json
    booked = client.post("/api/appointments/", headers=admin,
                         json={"doctor": 1, "patient": 1, "datetime": SOON.isoformat()})
    assert booked.status_code == 201, booked.json


def test_check_names_what_is_wrong_with_its_exit_status(env: dict[str, str], tmp_path: Path):
    fresh = {**env, "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db"}
    behind = run(fresh, "check")
    assert behind.exit_code == 5 and "healthcare db upgrade" in behind.stderr

    assert run(fresh, "db", "upgrade").exit_code == 0
    good = run(fresh, "check")
    assert good.exit_code == 0, good.output
    assert "schema: at the newest revision" in good.stdout

    unreachable = run({**env, "DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/none"}, "check")
    assert unreachable.exit_code == 4 and "database unavailable" in unreachable.stderr

    misconfigured = run({**env, "REFRESH_TOKEN_DAYS": "forever"}, "check")
    assert misconfigured.exit_code == 3
    assert misconfigured.stderr.strip().splitlines() == [
        "Error: configuration error: REFRESH_TOKEN_DAYS must be an integer, got 'forever'"
    ]


def test_send_reminders_twice_writes_each_reminder_once(env: dict[str, str]):
    assert run(env, "db", "upgrade").exit_code == 0
    clinic_with_a_booking(env)

    first = run(env, "send-reminders", "--within", "48h")
    second = run(env, "send-reminders", "--within", "48h")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert first.stdout.strip() == "send-reminders: 1 new, 0 already written, 1 sent, 0 failed"
    assert second.stdout.strip() == "send-reminders: 0 new, 1 already written, 0 sent, 0 failed"


def test_a_reminder_that_cannot_be_sent_exits_six_and_stays_queued(env: dict[str, str]):
    assert run(env, "db", "upgrade").exit_code == 0
    clinic_with_a_booking(env)
    unreachable_smtp = {**env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "1"}

    failed = run(unreachable_smtp, "send-reminders")

    assert failed.exit_code == 6
    assert "1 failed" in failed.stdout and "stay in the outbox" in failed.stderr


def test_mark_no_shows_reports_its_count_and_is_quiet_in_a_pipe(env: dict[str, str]):
    assert run(env, "db", "upgrade").exit_code == 0
    result = run(env, "mark-no-shows", "--grace", "30m")
    assert result.exit_code == 0
    assert result.output == "mark-no-shows: 0 marked as no-show\n"


def test_import_availability_lists_bad_rows_by_line_and_imports_nothing(
    env: dict[str, str], tmp_path: Path
):
    assert run(env, "db", "upgrade").exit_code == 0
    run(env, "create-user", "--email", "doc@c.test", "--password", "doc-pass-12", "--role", "doctor",
        "--name", "Dr. Quinn")
    day = SOON.date().isoformat()
    good = tmp_path / "good.csv"
    good.write_text(f"doctor,start_time,end_time\n1,{day}T09:00:00Z,{day}T12:00:00Z\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "doctor,start_time,end_time\n"
        f"1,{day}T13:00:00Z,{day}T17:00:00Z\n"
        f"1,{day}T13:00:00,{day}T17:00:00\n"
        f"1,{day}T18:00:00Z,{day}T17:00:00Z\n"
    )

    rejected = run(env, "import-availability", str(bad))
    imported = run(env, "import-availability", str(good))

    assert rejected.exit_code == 1
    assert [line.split(":")[1] for line in rejected.stderr.splitlines()[:2]] == ["3", "4"]
    assert "nothing imported" in rejected.stderr
    assert imported.exit_code == 0 and imported.stdout == "import-availability: 1 window(s) imported\n"


def test_the_installed_console_script_runs_in_a_real_process(env: dict[str, str], tmp_path: Path):
    script = Path(sys.executable).with_name("healthcare")
    process_env = {**os.environ, **env, "DATABASE_URL": f"sqlite:///{tmp_path}/proc.db"}
    upgraded = subprocess.run([script, "db", "upgrade"], env=process_env, capture_output=True,
                              text=True, timeout=60, check=False)
    checked = subprocess.run([script, "check"], env=process_env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert upgraded.returncode == 0, upgraded.stderr
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1].startswith("schema: at the newest revision")
