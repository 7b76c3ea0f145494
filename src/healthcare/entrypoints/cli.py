"""The ``healthcare`` command line. Every command calls the application layer.

Adding a command: write a function under ``main`` (or a group such as ``db``), take what it needs
with ``@inject`` and ``Provide["..._service"]`` like the views do, and raise domain errors freely:
``HealthcareGroup`` turns them, and configuration errors, into one line and exit status 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from dependency_injector.wiring import Provide, inject

from healthcare.application.commands import CreateUser
from healthcare.application.ports import StorageUnavailable
from healthcare.application.services import AccountService
from healthcare.config import ConfigError, Settings
from healthcare.domain.actor import Actor
from healthcare.domain.errors import DomainError
from healthcare.domain.model import Role


@dataclass(frozen=True)
class Composition:
    """What the composition root hands the command line (``bootstrap.run_cli``), so this module
    never imports it: how to build a wired container, and the web app, from settings."""

    container: Callable[[Settings], Any]
    app: Callable[[Settings], Any]


class HealthcareGroup(click.Group):
    """Expected failures are one line on stderr and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(f"configuration error: {error}") from None
        except DomainError as error:
            raise click.ClickException(error.message) from None
        except StorageUnavailable as error:
            raise click.ClickException(f"database unavailable: {error}") from None


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
    help="Worker processes [default: WEB_CONCURRENCY or 2 x CPUs + 1, at most 8].",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None) -> None:
    """Upgrade the database schema, then serve the API with gunicorn."""
    container, app_factory = ctx.obj, ctx.meta["app_factory"]
    _upgrade(container)
    # Nothing opened here may cross the fork: each worker makes its own app and engine.
    container.shutdown_resources()
    settings = container.settings()
    options: dict[str, Any] = {"bind": f"{host}:{port}"}
    if workers is not None:
        options["workers"] = workers
    click.echo(f"Settings: {json.dumps(settings.describe(), default=str)}", err=True)
    click.echo(f"Serving on http://{host}:{port}/ (docs at /api/swagger/)", err=True)
    GunicornServer(lambda: app_factory(settings), options).run()


class GunicornServer:
    """gunicorn run from code, with the packaged production settings and ``options`` on top."""

    def __init__(self, app_factory: Callable[[], Any], options: dict[str, Any]) -> None:
        from gunicorn.app.base import BaseApplication

        from healthcare.entrypoints import gunicorn_conf

        defaults = {
            name: getattr(gunicorn_conf, name)
            for name in dir(gunicorn_conf)
            if not name.startswith("_")
        }

        class Application(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in {**defaults, **options}.items():
                    if key in self.cfg.settings and value is not None:
                        self.cfg.set(key.lower(), value)

            def load(self) -> Any:
                return app_factory()

        self._application = Application()

    def run(self) -> None:
        self._application.run()


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

