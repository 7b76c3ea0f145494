"""The HTTP API: one flask-smorest blueprint per resource."""

from __future__ import annotations

from flask_smorest import Blueprint

from healthcare.entrypoints.api import (
    appointments,
    audit,
    auth,
    availabilities,
    availability_exceptions,
    availability_rules,
    calendar_feeds,
    doctors,
    health,
    holds,
    patients,
    records,
    slots,
    users,
    waitlist,
    webhooks,
)

#: In the order the OpenAPI document lists them.
BLUEPRINTS: tuple[Blueprint, ...] = (
    auth.blp,
    users.blp,
    doctors.blp,
    availabilities.blp,
    availability_rules.blp,
    availability_exceptions.blp,
    slots.blp,
    patients.blp,
    appointments.blp,
    holds.blp,
    waitlist.blp,
    records.blp,
    audit.blp,
    webhooks.blp,
    calendar_feeds.blp,
    calendar_feeds.feed_blp,
    health.blp,
)
