"""Free-text fields: trimmed, bounded, and non-empty unless the field allows it."""

from __future__ import annotations

from healthcare.domain.errors import InvalidInput


def require_text(value: str, field_name: str, max_length: int, *, allow_empty: bool = False) -> str:
    value = value.strip()
    if not value and not allow_empty:
        raise InvalidInput(f"{field_name} must not be empty.", {field_name: ["Must not be empty."]})
    if len(value) > max_length:
        raise InvalidInput(
            f"{field_name} is longer than {max_length} characters.",
            {field_name: [f"At most {max_length} characters."]},
        )
    return value
