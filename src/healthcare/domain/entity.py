"""The base of every entity: identity by stored id. A new entity has ``id=None`` until stored."""

from __future__ import annotations


class Entity:
    """Identity equality: two objects are the same entity when they have the same stored id."""

    id: int | None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or self.id is None:
            return other is self
        return self.id == other.id  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id)) if self.id is not None else id(self)
