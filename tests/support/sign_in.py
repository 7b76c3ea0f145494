"""The account service as the composition root builds it, for tests that build services by
hand: the packaged sign-in allowances, counted in memory unless told where."""

from __future__ import annotations

from healthcare.adapters.in_memory import InMemorySignInAttempts
from healthcare.application.ports import Clock, PasswordHasher, SignInAttempts
from healthcare.application.read_model import ReadModel
from healthcare.application.services import AccountService
from healthcare.application.unit_of_work import UnitOfWorkFactory
from healthcare.bootstrap import sign_in_policy
from healthcare.config import Settings

#: The defaults of LOGIN_RATE_LIMIT and LOGIN_ADDRESS_RATE_LIMIT.
PACKAGED_POLICY = sign_in_policy(Settings(jwt_secret_key="not-used-by-the-policy"))


def account_service(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    hasher: PasswordHasher,
    attempts: SignInAttempts | None = None,
    reads: ReadModel | None = None,
) -> AccountService:
    return AccountService(
        uow_factory, clock, hasher, attempts or InMemorySignInAttempts(), PACKAGED_POLICY, reads
    )
