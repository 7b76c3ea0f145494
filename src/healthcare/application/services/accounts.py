"""Accounts: sign-up, sign-in, the acting user, user administration, token revocation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from healthcare.application.commands import (
    CreateUser,
    RegisterPatient,
    UpdateUser,
    given,
)
from healthcare.application.ports import (
    Clock,
    Page,
    PageRequest,
    PasswordHasher,
    SignInAttempts,
    TokenHolder,
)
from healthcare.application.read_model import ReadModel, View
from healthcare.application.services.base import Service, found
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.actor import Actor
from healthcare.domain.audit import Action, Resource
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import (
    AuthenticationFailed,
    DuplicateEmail,
    InactiveUser,
    InvalidCredentials,
    InvalidInput,
)
from healthcare.domain.idempotency import SIGN_UP, claim
from healthcare.domain.patients import Patient
from healthcare.domain.sign_in import SignInPolicy
from healthcare.domain.users import Role, User, normalize_email

PASSWORD_MIN = 8
PASSWORD_MAX = 256
#: Where a sign-in without a network address (a command, a script) comes from: all such
#: callers share one address's allowance.
LOCAL_ADDRESS = "local"


def token_key(jti: str) -> str:
    """The revocation key of one token."""
    return f"jti:{jti}"


def family_key(family: str) -> str:
    """The revocation key of a token family: every token issued from one sign-in."""
    return f"fam:{family}"


def sign_in_name(email: str) -> str:
    """The account an email names: normalised as stored, or, when it is no valid address (so no
    account), folded the same simple way, so that spellings of one account count together."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip().lower()


def check_password_strength(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(
            f"A password has {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            {"password": [f"Must have {PASSWORD_MIN} to {PASSWORD_MAX} characters."]},
        )


@dataclass(frozen=True)
class Account:
    """A user with their profile, as ``/api/auth/me/`` shows it."""

    user: User
    doctor: Doctor | None = None
    patient: Patient | None = None


class AccountService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        hasher: PasswordHasher,
        sign_in_attempts: SignInAttempts,
        sign_in_policy: SignInPolicy,
        reads: ReadModel | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, reads)
        self.hasher = hasher
        self.sign_in_attempts = sign_in_attempts
        self.sign_in_policy = sign_in_policy
        # Verifying against a real hash when the email is unknown keeps sign-in time constant,
        # so response time does not tell which emails have accounts.
        self._dummy_hash = hasher.hash("not-a-real-password")

    # -- sign-up and sign-in ---------------------------------------------------------------

    def register_patient(
        self, command: RegisterPatient, idempotency_key: str | None = None
    ) -> Account:
        """Sign up a patient. With an idempotency key, a retry of the same sign-up (the same
        fields, and the same password, checked against the stored hash) answers the account
        the first one made; the password itself is never part of the stored fingerprint."""
        check_password_strength(command.password)
        fields = {name: value for name, value in vars(command).items() if name != "password"}
        fields["email"] = command.email.strip().lower()
        request = claim(SIGN_UP, idempotency_key, "account", **fields)
        return self.creating_once(
            request,
            lambda uow: self._register(uow, command),
            lambda uow, user_id: self._signed_up(uow, user_id, command.password),
            id_of=lambda account: account.user.id,  # type: ignore[return-value]
        )

    def _register(self, uow: UnitOfWork, command: RegisterPatient) -> Account:
        now = self.clock.now()
        user = self._add_user(uow, command.email, command.password, Role.PATIENT, now)
        patient = Patient(
            user_id=user.id,  # type: ignore[arg-type]
            name=command.name,
            email=user.email,
            phone=command.phone,
            insurance_id=command.insurance_id,
            date_of_birth=command.date_of_birth,
        )
        patient.validate(today=now.date())
        patient = uow.patients.add(patient)
        actor = Actor(user.id, Role.PATIENT, patient_id=patient.id)
        self.audit(uow, actor, Action.CREATE, Resource.PATIENT, [(patient.id, patient.id)])
        return Account(user=user, patient=patient)

    def _signed_up(self, uow: UnitOfWork, user_id: int, password: str) -> Account:
        """The account an earlier sign-up under the key made, to whoever knows its password;
        to anyone else the address is simply taken."""
        user = uow.users.get(user_id)
        if user is None or not self.hasher.verify(user.password_hash, password):
            raise DuplicateEmail()
        return Account(user=user, patient=uow.patients.get_by_user(user_id))

    def authenticate(self, email: str, password: str, address: str = LOCAL_ADDRESS) -> User:
        """The user with these credentials, signing in from client ``address``.

        Throttled (``domain.sign_in``): the attempt takes its place in its buckets before the
        password is checked, so concurrent guesses cannot overshoot an allowance, and gives it
        back unless the password check failed.
        """
        account = sign_in_name(email)
        now = self.clock.now()
        buckets = self.sign_in_policy.buckets(account, address)
        tallies = list(zip(buckets, self.sign_in_attempts.add(buckets, now), strict=True))
        guessed_wrong = False
        try:
            self.sign_in_policy.admit(tallies, now)
            return self._check_credentials(account, password)
        except AuthenticationFailed:
            guessed_wrong = True
            raise
        finally:
            if not guessed_wrong:
                self.sign_in_attempts.give_back(tallies, now)

    def _check_credentials(self, account: str, password: str) -> User:
        with self.uow_factory() as uow:
            user = uow.users.get_by_email(account)
            if user is None:
                self.hasher.verify(self._dummy_hash, password)
                raise InvalidCredentials()
            if not self.hasher.verify(user.password_hash, password):
                raise InvalidCredentials()
            if not user.is_active:
                raise InactiveUser()
            if self.hasher.needs_rehash(user.password_hash):
                user.password_hash = self.hasher.hash(password)
                uow.users.update(user)
                uow.commit()
        return user

    def token_holder(self, user_id: int, revocation_keys: Sequence[str]) -> TokenHolder | None:
        """Who holds a token and whether it is revoked, in one look-up: the check every signed-in
        request makes. None when the user is gone or deactivated."""
        return self.reads.token_holder(user_id, revocation_keys)

    def actor_for(self, user_id: int) -> Actor:
        """The acting user behind a token; refused at once once deactivated or deleted."""
        holder = self.reads.token_holder(user_id, ())
        if holder is None:
            raise AuthenticationFailed("This account no longer exists or is deactivated.")
        return holder.actor

    def account(self, actor: Actor) -> View:
        """The signed-in user with their profile."""
        account = self.reads.account(actor.user_id) if actor.user_id is not None else None
        return found(account, "User")

    # -- user administration (admin) -------------------------------------------------------

    def create_user(self, actor: Actor, command: CreateUser) -> Account:
        actor.require_role(Role.ADMIN)
        try:
            role = Role(command.role)
        except ValueError:
            raise InvalidInput(
                "role is patient, doctor or admin.", {"role": ["Not a valid role."]}
            ) from None
        check_password_strength(command.password)
        now = self.clock.now()
        with self.uow_factory() as uow:
            user = self._add_user(uow, command.email, command.password, role, now)
            doctor = patient = None
            if command.name and role is Role.DOCTOR:
                doctor = uow.doctors.add(
                    Doctor(user_id=user.id, name=command.name, specialization=command.specialization)  # type: ignore[arg-type]
                )
            elif command.name and role is Role.PATIENT:
                patient = uow.patients.add(
                    Patient(user_id=user.id, name=command.name, email=user.email)  # type: ignore[arg-type]
                )
                self.audit(uow, actor, Action.CREATE, Resource.PATIENT, [(patient.id, patient.id)])
            uow.commit()
        return Account(user=user, doctor=doctor, patient=patient)

    def get_user(self, actor: Actor, user_id: int) -> View:
        actor.require_role(Role.ADMIN)
        return found(self.reads.user(user_id), "User")

    def list_users(self, actor: Actor, page: PageRequest, role: Role | None = None) -> Page[View]:
        actor.require_role(Role.ADMIN)
        return self.reads.users(page, role)

    def update_user(self, actor: Actor, user_id: int, command: UpdateUser) -> User:
        actor.require_role(Role.ADMIN)
        changes = given(command)
        with self.uow_factory() as uow:
            user = found(uow.users.get(user_id), "User")
            if "is_active" in changes:
                if user.id == actor.user_id and not changes["is_active"]:
                    raise InvalidInput(
                        "You cannot deactivate your own account.",
                        {"is_active": ["Not on your own account."]},
                    )
                user.is_active = bool(changes["is_active"])
            if "email" in changes:
                user.email = changes["email"]
                user.__post_init__()
                other = uow.users.get_by_email(user.email)
                if other is not None and other.id != user.id:
                    raise DuplicateEmail()
            if "password" in changes:
                check_password_strength(changes["password"])
                user.password_hash = self.hasher.hash(changes["password"])
            uow.users.update(user)
            uow.commit()
        return user

    # -- tokens ----------------------------------------------------------------------------

    def revoke(self, keys: Sequence[str], expires_at: datetime) -> None:
        with self.uow_factory() as uow:
            for key in keys:
                uow.revocations.revoke(key, expires_at)
            uow.commit()

    def spend_refresh_token(self, jti: str, family: str, expires_at: datetime) -> None:
        """A refresh token works once. Presenting a spent one again means a copy is in other
        hands: the whole family is revoked (every token of that sign-in) and the caller refused.
        """
        spent, whole_family = token_key(jti), family_key(family)
        with self.uow_factory() as uow:
            if uow.revocations.any_revoked([whole_family]):
                raise AuthenticationFailed("This session has been revoked.")
            # Spending is the revocation itself, so of two racing refreshes exactly one wins.
            if not uow.revocations.revoke(spent, expires_at):
                uow.revocations.revoke(whole_family, expires_at)
                uow.commit()
                raise AuthenticationFailed("This refresh token was already used; the session is revoked.")
            uow.commit()

    # -- helpers ---------------------------------------------------------------------------

    def _add_user(
        self, uow: UnitOfWork, email: str, password: str, role: Role, now: datetime
    ) -> User:
        user = User(
            email=email, password_hash=self.hasher.hash(password), role=role, created_at=now
        )
        if uow.users.get_by_email(user.email) is not None:
            raise DuplicateEmail()
        return uow.users.add(user)
