"""In-memory adapters: the same guarantees as the database, for tests and dry runs."""

from healthcare.adapters.in_memory.sign_in_attempts import InMemorySignInAttempts
from healthcare.adapters.in_memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork

__all__ = ["InMemorySignInAttempts", "InMemoryStore", "InMemoryUnitOfWork"]
