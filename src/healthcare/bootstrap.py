"""The composition root: the only module that imports every layer and puts them together.

Every process starts here: the web server (``create_app``), the command line and the tests, which
override providers (``app.container.clock.override(...)``). Views and commands never import this
module's container; they name what they need (``Provide["appointment_service"]``) and the wiring
below supplies it.

Process safety: the engine is a per-container singleton made on first use, and the server
creates the app in each worker process after it starts, so no connection crosses a process. Each use
case gets its own unit of work, and so its own session.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import limits

from dependency_injector import containers, providers
from flask import Flask
from flask_jwt_extended import JWTManager
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

import healthcare
from healthcare.adapters.clock import SystemClock
from healthcare.adapters.counter_store import CounterStoreSignInAttempts
from healthcare.adapters.notifications import LogSender, SmtpSender
from healthcare.adapters.webhooks import HttpWebhookSender, SocketResolver
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.adapters.sqlalchemy import (
    SqlAlchemyReadModel,
    SqlAlchemyUnitOfWork,
    create_engine_from_url,
    current_revision,
    head_revision,
    upgrade_schema,
)
from healthcare.adapters.sqlalchemy.sign_in_attempts import SqlAlchemySignInAttempts
from healthcare.application.services import (
    AccountService,
    AppointmentService,
    AuditService,
    AvailabilityService,
    DoctorService,
    HealthService,
    HoldService,
    MedicalRecordService,
    PatientService,
    SlotService,
    WaitlistService,
)
from healthcare.application.services.waitlist import WaitlistOffers
from healthcare.application.services.bulk import BulkLoadService
from healthcare.application.services.calendar import CalendarService
from healthcare.application.services.feeds import CalendarFeedService
from healthcare.application.services.jobs import (
    AvailabilityImport,
    NoShowJob,
    ReminderJob,
)
from healthcare.application.services.webhooks import (
    WebhookDelivery,
    WebhookService,
    WebhookWorker,
)
from healthcare.config import Settings
from healthcare.domain.policy import BookingPolicy
from healthcare.domain.sign_in import Allowance, SignInPolicy
from healthcare.entrypoints.api import BLUEPRINTS
from healthcare.entrypoints.api.bodies import BoundedRequest
from healthcare.entrypoints.api.encoding import FastJsonProvider
from healthcare.entrypoints.api.errors import register_error_handlers
from healthcare.entrypoints.api.observability import init_request_ids
from healthcare.entrypoints.api.openapi import HealthcareApi, assets, openapi_config
from healthcare.entrypoints.api.routing import IdConverter, id_converter_schema
from healthcare.entrypoints.api.security import configure_jwt
from healthcare.entrypoints.cli import Composition
from healthcare.entrypoints.fhir import init_app as init_fhir
from healthcare.entrypoints.cli import main as cli_main


def database_engine(url: str, *, statement_timeout_ms: int, pool_size: int) -> Iterator[Engine]:
    engine = create_engine_from_url(
        url, statement_timeout_ms=statement_timeout_ms, pool_size=pool_size
    )
    try:
        yield engine
    finally:
        engine.dispose()


def message_sender(settings: Settings) -> LogSender | SmtpSender:
    """SMTP when a host is configured; otherwise a sender that only logs that it sent."""
    if not settings.smtp_host:
        return LogSender()
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        starttls=settings.smtp_starttls,
    )


def webhook_sender() -> Iterator[HttpWebhookSender]:
    sender = HttpWebhookSender()
    try:
        yield sender
    finally:
        sender.close()


def booking_policy(settings: Settings) -> BookingPolicy:
    """The clinic-wide booking policy; each doctor's own choices apply on top of it."""
    return BookingPolicy(
        min_notice_minutes=settings.booking_min_notice_minutes,
        horizon_days=settings.booking_horizon_days,
        buffer_minutes=settings.booking_buffer_minutes,
        max_per_day=settings.booking_max_per_day,
        late_cancel_hours=settings.late_cancel_hours,
    )


def sign_in_policy(settings: Settings) -> SignInPolicy:
    """The sign-in throttle's allowances, from ``LOGIN_RATE_LIMIT`` and
    ``LOGIN_ADDRESS_RATE_LIMIT`` (``limits`` notation: "5 per minute", "5/minute;50/hour")."""

    def allowances(text: str) -> tuple[Allowance, ...]:
        return tuple(
            Allowance(item.amount, timedelta(seconds=item.get_expiry()))
            for item in limits.parse_many(text)
        )

    return SignInPolicy(
        per_account_and_address=allowances(settings.login_rate_limit),
        per_address=allowances(settings.login_address_rate_limit),
    )


def sign_in_attempts(
    settings: Settings, engine: Engine
) -> SqlAlchemySignInAttempts | CounterStoreSignInAttempts:
    """Counted in the database unless ``RATELIMIT_STORAGE_URI`` names a shared store."""
    if not settings.ratelimit_storage_uri:
        return SqlAlchemySignInAttempts(engine)
    return CounterStoreSignInAttempts.at(
        settings.ratelimit_storage_uri, settings.ratelimit_key_prefix
    )


def use_case(
    service: type,
    unit_of_work: providers.Factory,
    clock: providers.Provider,
    **dependencies: providers.Provider,
) -> providers.Singleton:
    """A service given the unit-of-work *provider* (it makes a fresh unit of work per call),
    the clock, and whatever else it takes (the read side, the clinic's policy, ...)."""
    return providers.Singleton(
        service, uow_factory=unit_of_work.provider, clock=clock, **dependencies
    )


class Container(containers.DeclarativeContainer):
    wiring_config = containers.WiringConfiguration(packages=["healthcare.entrypoints"])

    settings = providers.Singleton(Settings.from_env)

    clock = providers.Singleton(SystemClock)
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.argon2_time_cost,
        memory_cost=settings.provided.argon2_memory_cost,
        parallelism=settings.provided.argon2_parallelism,
    )

    #: A resource: made on first use, disposed by ``container.shutdown_resources()``.
    engine = providers.Resource(
        database_engine,
        settings.provided.database_url,
        statement_timeout_ms=settings.provided.statement_timeout_ms,
        pool_size=settings.provided.db_pool_size,
    )
    #: One per use case, never shared: a Factory, and services receive the provider itself.
    unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, engine=engine)
    read_model = providers.Singleton(SqlAlchemyReadModel, engine)

    upgrade_schema = providers.Callable(upgrade_schema, engine)
    current_revision = providers.Callable(current_revision, engine)
    head_revision = providers.Callable(head_revision)

    # Services hold no per-request state, so one each per process; AccountService also
    # pre-computes a dummy hash, which is worth doing once.
    sign_in_attempts = providers.Singleton(sign_in_attempts, settings, engine)
    sign_in_policy = providers.Singleton(sign_in_policy, settings)
    booking_policy = providers.Singleton(booking_policy, settings)
    account_service = use_case(
        AccountService,
        unit_of_work,
        clock,
        hasher=password_hasher,
        sign_in_attempts=sign_in_attempts,
        sign_in_policy=sign_in_policy,
        reads=read_model,
    )
    doctor_service = use_case(DoctorService, unit_of_work, clock, reads=read_model)
    patient_service = use_case(PatientService, unit_of_work, clock, reads=read_model)
    waitlist_offers = providers.Singleton(
        WaitlistOffers, booking_policy, settings.provided.waitlist_offer_minutes
    )
    availability_service = use_case(
        AvailabilityService, unit_of_work, clock, reads=read_model, offers=waitlist_offers
    )
    appointment_service = use_case(
        AppointmentService,
        unit_of_work,
        clock,
        reads=read_model,
        policy=booking_policy,
        offers=waitlist_offers,
    )
    waitlist_service = use_case(
        WaitlistService, unit_of_work, clock, reads=read_model, offers=waitlist_offers
    )
    hold_service = use_case(
        HoldService,
        unit_of_work,
        clock,
        reads=read_model,
        policy=booking_policy,
        hold_minutes=settings.provided.hold_minutes,
        max_per_patient=settings.provided.hold_max_per_patient,
        offers=waitlist_offers,
    )
    calendar_service = use_case(
        CalendarService,
        unit_of_work,
        clock,
        reads=read_model,
        policy=booking_policy,
        offers=waitlist_offers,
    )
    medical_record_service = use_case(MedicalRecordService, unit_of_work, clock, reads=read_model)
    audit_service = use_case(AuditService, unit_of_work, clock, reads=read_model)
    slot_service = use_case(SlotService, unit_of_work, clock, policy=booking_policy)
    health_service = use_case(HealthService, unit_of_work, clock)

    # Integrations (SPEC section 9).
    address_resolver = providers.Singleton(SocketResolver)
    webhook_service = providers.Singleton(
        WebhookService,
        uow_factory=unit_of_work.provider,
        clock=clock,
        resolver=address_resolver,
        allow_private=settings.provided.webhook_allow_private,
    )
    calendar_feed_service = providers.Singleton(
        CalendarFeedService, uow_factory=unit_of_work.provider, clock=clock, policy=booking_policy
    )
    webhook_sender = providers.Resource(webhook_sender)
    webhook_delivery = providers.Singleton(
        WebhookDelivery,
        uow_factory=unit_of_work.provider,
        clock=clock,
        resolver=address_resolver,
        sender=webhook_sender,
        allow_private=settings.provided.webhook_allow_private,
        lease=providers.Factory(timedelta, seconds=settings.provided.webhook_lease_seconds),
    )
    webhook_worker = providers.Factory(
        WebhookWorker,
        delivery=webhook_delivery,
        threads=settings.provided.webhook_threads,
        per_endpoint=settings.provided.webhook_per_endpoint,
    )

    # Batch jobs: the same use cases and rules, run by the clinic itself.
    sender = providers.Singleton(message_sender, settings)
    no_show_job = use_case(NoShowJob, unit_of_work, clock)
    reminder_job = use_case(ReminderJob, unit_of_work, clock, sender=sender)
    availability_import = use_case(AvailabilityImport, unit_of_work, clock)
    bulk_load_service = use_case(BulkLoadService, unit_of_work, clock, hasher=password_hasher)


def create_container(settings: Settings | None = None) -> Container:
    """A wired container; ``settings`` default to the environment's."""
    if settings is None:
        return Container()
    return Container(settings=providers.Object(settings))


def create_app(settings: Settings | None = None, container: Container | None = None) -> Flask:
    """The WSGI application: Flask, the OpenAPI-documented API, the FHIR interface, JWT, error
    bodies."""
    container = container or create_container(settings)
    settings = container.settings()

    app = Flask(
        "healthcare", instance_path=str(Path(settings.instance_path).resolve()), static_folder=None
    )
    app.container = container  # type: ignore[attr-defined]
    app.request_class = BoundedRequest
    app.json = FastJsonProvider(app)
    app.config.update(
        DEBUG=settings.debug,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        RETRY_AFTER_SECONDS=settings.retry_after_seconds,
        # Tokens: HS256 only, in the Authorization header only.
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.refresh_token_days),
        **openapi_config("Healthcare Appointment Scheduling API", healthcare.__version__),
    )
    if settings.proxy_hops:
        # The client's address (sign-in throttling) and scheme as the trusted proxies saw them.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # "/api/doctors/" and "/api/doctors" both answer, without a redirect.
    app.url_map.strict_slashes = False
    app.url_map.converters["id"] = IdConverter

    init_request_ids(app)
    api = HealthcareApi(app)
    api.register_converter(IdConverter, id_converter_schema)
    register_error_handlers(app)  # after Api(): replaces flask-smorest's HTTP error handler
    configure_jwt(app, JWTManager(app))
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    init_fhir(app)  # the same use cases as FHIR R4 at /fhir/R4 (not in the OpenAPI document)
    app.register_blueprint(assets)
    return app


def run_cli() -> None:
    """The ``healthcare`` console script: the command line, composed here like the web app."""
    cli_main(obj=Composition(container=create_container, app=create_app))
