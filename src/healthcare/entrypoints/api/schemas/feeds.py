"""Calendar feeds."""

from __future__ import annotations

from marshmallow import fields

from healthcare.entrypoints.api.schemas.common import Body, Out
from healthcare.entrypoints.api.schemas.fields import Id, UtcDateTime


class CalendarFeedIn(Body):
    doctor_id = Id(
        data_key="doctor",
        metadata={"description": "An admin names the doctor; a doctor or patient omits it."},
    )


class CalendarFeedOut(Out):
    id = fields.Integer()
    owner = fields.Integer(metadata={"description": "The user whose appointments it shows."})
    url = fields.String(
        allow_none=True,
        metadata={
            "description": "The feed's secret URL, shown only in the answer that creates it "
            "(only a hash of its token is stored); null in lists."
        },
    )
    created_at = UtcDateTime()
