"""The ``healthcare`` command line. Every command calls the application layer.

Adding a command: write a function under ``main`` (or a group such as ``db``), take what it needs
with ``@inject`` and ``Provide["..._service"]`` like the views do, and raise domain errors freely:
``HealthcareGroup`` turns them, and configuration and database errors, into one line and the exit
status below. Jobs end with a one-line summary on stdout; progress goes to a terminal only.

Exit status: 0 done; 1 refused by a rule, or bad rows in an input file; 2 wrong usage;
3 configuration invalid; 4 database unreachable; 5 schema not at the newest revision;
6 some messages could not be sent (they stay in the outbox: run again later).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from dependency_injector.wiring import Provide, inject

from healthcare.application.commands import CreateUser
from healthcare.application.ports import StorageUnavailable
from healthcare.application.services import AccountService, WaitlistService
from healthcare.application.services.bulk import BulkLoadService
from healthcare.application.services.jobs import (
    AvailabilityImport,
    NoShowJob,
    ReminderJob,
    parse_duration,
)
from healthcare.config import ConfigError, Settings
from healthcare.domain.actor import Actor
from healthcare.domain.errors import DomainError
from healthcare.domain.users import Role


@dataclass(frozen=True)
class Composition:
    """What the composition root hands the command line (``bootstrap.run_cli``), so this module
    never imports it: how to build a wired container, and the web app, from settings."""

    container: Callable[[Settings], Any]
    app: Callable[[Settings], Any]


EXIT_REFUSED = 1
EXIT_CONFIG = 3
EXIT_DATABASE = 4
EXIT_SCHEMA_BEHIND = 5
EXIT_SEND_FAILED = 6


class Failure(click.ClickException):
    """One line on stderr and a chosen exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class HealthcareGroup(click.Group):
    """Expected failures are one line on stderr and their exit status, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise Failure(f"configuration error: {error}", EXIT_CONFIG) from None
        except DomainError as error:
            raise Failure(error.message, EXIT_REFUSED) from None
        except StorageUnavailable as error:
            raise Failure(f"database unavailable: {error}", EXIT_DATABASE) from None


@click.group(cls=HealthcareGroup)
@click.version_option(package_name="healthcare")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Healthcare appointment scheduling: the server, the database and administration.

    Settings come from the environment (DATABASE_URL, JWT_SECRET_KEY, ...).
    """
    composition = ctx.obj
    if not isinstance(composition, Composition):
        raise click.UsageError("start the command line through healthcare.bootstrap.run_cli")
    settings = Settings.from_env()
    container = composition.container(settings)
    ctx.obj = container
    ctx.meta["app_factory"] = composition.app
    ctx.call_on_close(container.shutdown_resources)


# -- the server ------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes [default: WEB_CONCURRENCY or one per CPU].",
)
@click.option(
    "--upgrade/--no-upgrade",
    default=True,
    show_default=True,
    help="Migrate the schema first. Several instances: run `healthcare db upgrade` once instead.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None, upgrade: bool) -> None:
    """Serve the API with granian (the packaged settings), after migrating the schema."""
    from healthcare.entrypoints import server

    container, app_factory = ctx.obj, ctx.meta["app_factory"]
    if upgrade:
        _upgrade(container)
    settings = container.settings()
    # Nothing opened here may cross into the workers: each builds its own app and engine.
    container.shutdown_resources()
    # Each worker imports the factory by name and calls it, so it needs no pickling.
    http = server.granian(f"{app_factory.__module__}:{app_factory.__qualname__}", host, port, workers)
    log = logging.getLogger("healthcare.server")
    log.info("Settings: %s", json.dumps(settings.describe(), default=str))
    log.info("Serving on http://%s:%s/ (docs at /api/swagger/)", host, port)
    http.serve()


# -- the database ----------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(container: Any) -> None:
    """Migrate the database schema to the newest revision."""
    _upgrade(container)


def _upgrade(container: Any) -> None:
    container.upgrade_schema()
    click.echo(f"Database schema at revision {container.current_revision()} (head).", err=True)


# -- administration --------------------------------------------------------------------------


@main.command("create-user")
@click.option("--email", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None, help="With doctor or patient: also create the profile.")
@inject
def create_user(
    email: str,
    password: str,
    role: str,
    name: str | None,
    accounts: AccountService = Provide["account_service"],
) -> None:
    """Create a user (as the clinic itself) and print it as JSON."""
    account = accounts.create_user(
        Actor.system(), CreateUser(email=email, password=password, role=role, name=name)
    )
    user = account.user
    click.echo(json.dumps({"id": user.id, "email": user.email, "role": str(user.role)}))


@main.command()
@click.pass_obj
def check(container: Any) -> None:
    """Check the configuration, the database connection and the schema revision.

    Reaching this line means the settings parsed; reading the schema revision proves the
    database answers (a connection failure exits with status 4).
    """
    settings = container.settings()
    click.echo(f"configuration: ok ({settings.env}, {settings.describe()['database_url']})")
    current, head = container.current_revision(), container.head_revision()
    click.echo("database: reachable")
    if current != head:
        raise Failure(
            f"schema: at {current or 'no revision'}, newest is {head}: run `healthcare db upgrade`",
            EXIT_SCHEMA_BEHIND,
        )
    click.echo(f"schema: at the newest revision ({head})")


# -- batch jobs ------------------------------------------------------------------------------


@contextmanager
def progress(label: str) -> Iterator[Callable[[int], None]]:
    """A live count on a terminal; nothing at all in a pipe or a log file."""
    done = 0
    live = sys.stderr.isatty()

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if live:
            click.echo(f"\r{label}: {done}", nl=False, err=True)

    try:
        yield advance
    finally:
        if live and done:
            click.echo(err=True)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@main.command("mark-no-shows")
@click.option(
    "--grace",
    callback=_duration,
    help="How long after its end a confirmed appointment counts as missed "
    "[default: NO_SHOW_GRACE_MINUTES, 60m].",
)
@click.pass_obj
@inject
def mark_no_shows(container: Any, grace: Any, job: NoShowJob = Provide["no_show_job"]) -> None:
    """Mark confirmed appointments that ended without being completed as no-shows."""
    from datetime import timedelta

    if grace is None:
        grace = timedelta(minutes=container.settings().no_show_grace_minutes)
    with progress("marked") as advance:
        report = job.run(grace=grace, progress=advance)
    click.echo(f"mark-no-shows: {report.marked} marked as no-show")


@main.command("send-reminders")
@click.option(
    "--within", default="24h", show_default=True, callback=_duration,
    help="Remind of appointments starting within this time (30m, 24h, 2d).",
)
@inject
def send_reminders(within: Any, job: ReminderJob = Provide["reminder_job"]) -> None:
    """Write one reminder per upcoming appointment to the outbox, then send the outbox."""
    with progress("sent") as advance:
        report = job.run(within=within, progress=advance)
    click.echo(
        f"send-reminders: {report.written} new, {report.already_written} already written, "
        f"{report.sent} sent, {report.failed} failed"
    )
    if report.failed:
        raise Failure(f"{report.failed} message(s) not sent; they stay in the outbox", EXIT_SEND_FAILED)


@main.command("process-waitlist")
@inject
def process_waitlist(waitlist: WaitlistService = Provide["waitlist_service"]) -> None:
    """Pass the slots of lapsed waitlist offers to the next waiting entries, and expire the
    entries whose range has passed, remove expired holds (idempotent; safe beside the API and
    another run)."""
    report = waitlist.process()
    click.echo(
        f"process-waitlist: {report.passed_on} lapsed offers passed on, {report.offered} new "
        f"offers, {report.expired_ranges} entries expired, {report.purged_holds} expired holds "
        "removed"
    )


@main.command("import-availability")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@inject
def import_availability(
    csv_file: Path, importer: AvailabilityImport = Provide["availability_import"]
) -> None:
    """Import availability windows from a CSV file (doctor,start_time,end_time): all or nothing."""
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as error:
        raise Failure(f"{csv_file}: cannot read it as UTF-8 text ({error})", EXIT_REFUSED) from None
    report = importer.run(text)
    for error in report.errors:
        click.echo(f"{csv_file}:{error.line}: {error.reason}", err=True)
    if report.errors:
        raise Failure(
            f"import-availability: {len(report.errors)} bad row(s); nothing imported", EXIT_REFUSED
        )
    click.echo(f"import-availability: {report.imported} window(s) imported")


@main.command("seed-demo")
@click.option("--doctors", default=12, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--patients", default=300, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--weeks", default=6, show_default=True, type=click.IntRange(1, 104),
              help="Weeks of calendar, a third of them in the past.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="The same seed on the same day gives the same clinic.")
@inject
def seed_demo(
    doctors: int, patients: int, weeks: int, seed: int,
    bulk: BulkLoadService = Provide["bulk_load_service"],
) -> None:
    """Load a believable demo clinic: doctors in their time zones, weekly windows, patients,
    appointments in every status and records for completed visits."""
    from healthcare.entrypoints import demo

    counts = demo.seed_demo(bulk, doctors=doctors, patients=patients, weeks=weeks, seed=seed)
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    click.echo(f"seed-demo: {summary}")
    click.echo(
        f"sign in as {demo.DEMO_ADMIN} (or any demo user) with password {demo.DEMO_PASSWORD!r}",
        err=True,
    )


# -- workers ---------------------------------------------------------------------------------


@main.command("deliver-webhooks")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.pass_obj
def deliver_webhooks(container: Any, once: bool) -> None:
    """Deliver the webhook outbox: signed POSTs, retried on schedule, until stopped (SIGTERM or
    Ctrl-C: attempts in flight finish first). Several may run at once.

    One JSON line per attempt goes to stderr (no bodies); the summary to stdout."""
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    attempts = logging.getLogger("healthcare.webhooks")
    attempts.addHandler(handler)
    attempts.setLevel(logging.INFO)
    attempts.propagate = False
    worker = container.webhook_worker()
    if not once:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: worker.stop())
    try:
        with progress("attempted") as advance:
            report = worker.run(once=once, progress=advance)
    finally:
        attempts.removeHandler(handler)
    click.echo(
        f"deliver-webhooks: {report.delivered} delivered, {report.retrying} to retry, "
        f"{report.failed} failed, {report.pending} pending"
    )
