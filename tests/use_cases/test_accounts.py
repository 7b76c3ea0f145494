"""Sign-up, sign-in, the acting user and user administration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.application.commands import (
    CreatePatient,
    CreateUser,
    RegisterPatient,
    UpdatePatient,
    UpdateUser,
)
from healthcare.application.services.bulk import BulkLoadService, LoadClinic, NewPatient
from healthcare.domain.actor import Actor
from healthcare.domain.errors import (
    AuthenticationFailed,
    DuplicateEmail,
    InactiveUser,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManySignInAttempts,
)
from healthcare.domain.users import Role
from tests.support.sign_in import account_service
from tests.use_cases.clinic import PASSWORD, WIDE, Clinic, Services, outcome, row

NON_ADMINS = ["doctor", "patient"]


def register(services: Services, email: str = "new@example.org", password: str = PASSWORD):
    return services.accounts.register_patient(
        RegisterPatient(email, password, "New Patient", phone="555-0199", insurance_id="INS-1")
    )


def test_a_patient_registers_a_user_and_a_profile_under_one_email(services: Services) -> None:
    account = register(services, email="New.Person@Example.org")
    actor = services.accounts.actor_for(account.user.id)
    assert account.user.role is Role.PATIENT and account.user.is_active
    assert account.user.email == account.patient.email == "new.person@example.org"
    assert (actor.role, actor.patient_id, actor.doctor_id) == (
        Role.PATIENT,
        account.patient.id,
        None,
    )
    assert services.patients.get(actor, account.patient.id)["insurance_id"] == "INS-1"


def test_an_email_is_registered_once_whatever_its_case(services: Services, clinic: Clinic) -> None:
    emails = ["pat@example.org", "PAT@Example.ORG", "  pat@example.org "]
    assert [outcome(lambda e=e: register(services, email=e)) for e in emails] == [
        DuplicateEmail
    ] * 3


@pytest.mark.parametrize("password", ["short", "x" * 257])
def test_a_password_of_fewer_than_8_or_more_than_256_characters_is_refused(
    services: Services, password: str
) -> None:
    with pytest.raises(InvalidInput):
        register(services, password=password)


def test_a_user_signs_in_with_their_email_in_any_case(services: Services, clinic: Clinic) -> None:
    for email in ["pat@example.org", "PAT@EXAMPLE.ORG", " Pat@Example.org "]:
        assert services.accounts.authenticate(email, PASSWORD).id == clinic.patient.user_id, email


def test_bad_credentials_are_refused_alike(services: Services, clinic: Clinic) -> None:
    attempts = {
        "wrong password": ("pat@example.org", "wrong password"),
        "unknown email": ("nobody@example.org", PASSWORD),
        "malformed email": ("not an email", PASSWORD),
    }
    outcomes = {
        name: outcome(lambda a=a: services.accounts.authenticate(*a))
        for name, a in attempts.items()
    }
    assert outcomes == dict.fromkeys(attempts, InvalidCredentials)


def deactivate(services: Services, clinic: Clinic, actor: Actor) -> None:
    services.accounts.update_user(clinic.admin, actor.user_id, UpdateUser(is_active=False))


def test_a_deactivated_user_cannot_sign_in_nor_act(services: Services, clinic: Clinic) -> None:
    deactivate(services, clinic, clinic.patient)
    with pytest.raises(InactiveUser):
        services.accounts.authenticate("pat@example.org", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.accounts.actor_for(clinic.patient.user_id)


def test_a_deactivated_user_with_a_wrong_password_learns_nothing_more(
    services: Services, clinic: Clinic
) -> None:
    deactivate(services, clinic, clinic.patient)
    with pytest.raises(InvalidCredentials):
        services.accounts.authenticate("pat@example.org", "wrong password")


def test_a_reactivated_user_acts_again(services: Services, clinic: Clinic) -> None:
    deactivate(services, clinic, clinic.doctor)
    services.accounts.update_user(clinic.admin, clinic.doctor.user_id, UpdateUser(is_active=True))
    assert services.accounts.actor_for(clinic.doctor.user_id) == clinic.doctor


def test_an_unknown_user_id_is_no_actor(services: Services, clinic: Clinic) -> None:
    with pytest.raises(AuthenticationFailed):
        services.accounts.actor_for(max(a.user_id for a in clinic.roles.values()) + 1000)


def test_the_actor_carries_the_role_and_profile_of_its_user(clinic: Clinic) -> None:
    kinds = {
        name: (actor.role, actor.doctor_id is not None, actor.patient_id is not None)
        for name, actor in clinic.roles.items()
    }
    assert kinds == row(
        (Role.ADMIN, False, False),
        (Role.DOCTOR, True, False),
        (Role.DOCTOR, True, False),
        (Role.PATIENT, False, True),
        (Role.PATIENT, False, True),
    )


def test_an_account_shows_the_user_with_their_own_profile(
    services: Services, clinic: Clinic
) -> None:
    doctor = services.accounts.account(clinic.doctor)
    patient = services.accounts.account(clinic.patient)
    assert (doctor["user"]["id"], doctor["doctor"]["id"], doctor["patient"]) == (
        clinic.doctor.user_id,
        clinic.doctor.doctor_id,
        None,
    )
    assert (patient["user"]["email"], patient["patient"]["id"], patient["doctor"]) == (
        "pat@example.org",
        clinic.patient.patient_id,
        None,
    )
    with pytest.raises(NotFound):
        services.accounts.account(Actor.system())


def test_a_password_hashed_with_older_parameters_is_upgraded_at_sign_in(
    services: Services, clinic: Clinic, uow_factory, read_model, clock, hasher
) -> None:
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert hasher.needs_rehash(stronger.hash(PASSWORD))  # the parameters do differ
    upgraded = account_service(uow_factory, clock, stronger, reads=read_model).authenticate(
        "pat@example.org", PASSWORD
    )
    assert not stronger.needs_rehash(upgraded.password_hash)
    with uow_factory() as uow:  # the hash is on no read: the write side's own user
        stored = uow.users.get(clinic.patient.user_id)
    assert stored.password_hash == upgraded.password_hash
    assert services.accounts.authenticate("pat@example.org", PASSWORD).id == clinic.patient.user_id


# -- user administration --------------------------------------------------------------------


def test_an_admin_creates_users_of_any_role_with_a_profile_when_named(
    services: Services, clinic: Clinic
) -> None:
    #: (role, name) -> (has a doctor profile, has a patient profile)
    expected = {
        ("admin", None): (False, False),
        ("admin", "Ann Admin"): (False, False),
        ("doctor", None): (False, False),
        ("doctor", "Dr. New"): (True, False),
        ("patient", None): (False, False),
        ("patient", "New Patient"): (False, True),
    }
    found = {}
    for n, (role, name) in enumerate(expected):
        email = f"new{n}@clinic.test"
        account = services.accounts.create_user(
            clinic.admin, CreateUser(email, PASSWORD, role, name=name)
        )
        assert account.user.role is Role(role)
        assert services.accounts.authenticate(email, PASSWORD).id == account.user.id
        actor = services.accounts.actor_for(account.user.id)
        found[role, name] = (actor.doctor_id is not None, actor.patient_id is not None)
    assert found == expected


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_an_admin_administers_users(services: Services, clinic: Clinic, role: str) -> None:
    actor = clinic.roles[role]
    refused = [
        lambda: services.accounts.create_user(
            actor, CreateUser("x@clinic.test", PASSWORD, "admin")
        ),
        lambda: services.accounts.get_user(actor, actor.user_id),
        lambda: services.accounts.list_users(actor, WIDE),
        lambda: services.accounts.update_user(actor, actor.user_id, UpdateUser(is_active=True)),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDenied):
            attempt()
    with pytest.raises(InvalidCredentials):
        services.accounts.authenticate("x@clinic.test", PASSWORD)


def test_an_unknown_role_or_a_taken_email_is_refused(services: Services, clinic: Clinic) -> None:
    with pytest.raises(InvalidInput):
        services.accounts.create_user(clinic.admin, CreateUser("x@clinic.test", PASSWORD, "nurse"))
    with pytest.raises(DuplicateEmail):
        services.accounts.create_user(
            clinic.admin, CreateUser("ADA@clinic.test", PASSWORD, "doctor")
        )


def test_an_admin_reads_and_lists_users_by_role(services: Services, clinic: Clinic) -> None:
    assert services.accounts.get_user(clinic.admin, clinic.doctor.user_id)["role"] == "doctor"
    assert services.accounts.list_users(clinic.admin, WIDE).total == 5
    doctors = services.accounts.list_users(clinic.admin, WIDE, role=Role.DOCTOR)
    assert {u["id"] for u in doctors.items} == {clinic.doctor.user_id, clinic.other_doctor.user_id}
    with pytest.raises(NotFound):
        services.accounts.get_user(
            clinic.admin, max(a.user_id for a in clinic.roles.values()) + 1000
        )


def test_an_admin_changes_a_users_email_and_password(services: Services, clinic: Clinic) -> None:
    services.accounts.update_user(
        clinic.admin,
        clinic.patient.user_id,
        UpdateUser(email="Pat.New@Example.org", password="another password"),
    )
    assert (
        services.accounts.authenticate("pat.new@example.org", "another password").id
        == clinic.patient.user_id
    )
    with pytest.raises(InvalidCredentials):
        services.accounts.authenticate("pat@example.org", PASSWORD)


def test_an_admin_cannot_give_a_user_a_taken_email(services: Services, clinic: Clinic) -> None:
    with pytest.raises(DuplicateEmail):
        services.accounts.update_user(
            clinic.admin, clinic.patient.user_id, UpdateUser(email="QUINN@example.org")
        )
    assert services.accounts.authenticate("pat@example.org", PASSWORD).id == clinic.patient.user_id


def test_an_admin_cannot_deactivate_themself(services: Services, clinic: Clinic) -> None:
    with pytest.raises(InvalidInput):
        deactivate(services, clinic, clinic.admin)
    assert services.accounts.actor_for(clinic.admin.user_id) == clinic.admin


def test_updating_an_unknown_user_is_not_found(services: Services, clinic: Clinic) -> None:
    with pytest.raises(NotFound):
        services.accounts.update_user(
            clinic.admin,
            max(a.user_id for a in clinic.roles.values()) + 1000,
            UpdateUser(is_active=False),
        )


# -- token revocation -----------------------------------------------------------------------


def test_a_revoked_token_stays_revoked_and_others_do_not(
    services: Services, clinic: Clinic, clock
) -> None:
    def revoked(keys: list[str]) -> bool:
        holder = services.accounts.token_holder(clinic.patient.user_id, keys)
        assert holder is not None
        return holder.revoked

    expires = clock.now() + timedelta(days=7)
    services.accounts.revoke(["jti:one", "fam:a"], expires)
    services.accounts.revoke(["jti:one"], expires)  # idempotent
    assert revoked(["jti:one"])
    assert revoked(["jti:two", "fam:a"])
    assert not revoked(["jti:two", "fam:b"])


def test_a_refresh_token_works_once_and_its_replay_revokes_the_whole_sign_in(
    services: Services, clock
) -> None:
    expires = clock.now() + timedelta(days=7)
    services.accounts.spend_refresh_token("first", "family-a", expires)
    services.accounts.spend_refresh_token("second", "family-a", expires)  # the rotated one
    with pytest.raises(AuthenticationFailed):
        services.accounts.spend_refresh_token("first", "family-a", expires)  # a stolen copy
    with pytest.raises(AuthenticationFailed):
        services.accounts.spend_refresh_token("third", "family-a", expires)  # nothing of it works
    services.accounts.spend_refresh_token("fourth", "family-b", expires)  # other sign-ins still work


def test_the_token_check_finds_the_holder_and_whether_the_token_is_revoked(
    services: Services, clinic: Clinic, clock
) -> None:
    patient = clinic.patient
    services.accounts.revoke(["fam:stolen"], clock.now() + timedelta(days=1))

    fine = services.accounts.token_holder(patient.user_id, ["jti:x", "fam:fine"])
    stolen = services.accounts.token_holder(patient.user_id, ["jti:y", "fam:stolen"])
    services.accounts.update_user(clinic.admin, patient.user_id, UpdateUser(is_active=False))
    deactivated = services.accounts.token_holder(patient.user_id, ["jti:x"])

    assert fine is not None and fine.actor == patient and not fine.revoked
    assert stolen is not None and stolen.revoked
    assert deactivated is None
    assert services.accounts.token_holder(10**9, []) is None


# -- sign-in throttling ---------------------------------------------------------------------

GUESSER, OWNER = "203.0.113.7", "198.51.100.1"


def guess(services: Services, times: int, email: str = "pat@example.org", address: str = GUESSER):
    return [
        outcome(lambda: services.accounts.authenticate(email, "wrong password", address))
        for _ in range(times)
    ]


def test_guessing_an_accounts_password_locks_the_guesser_out_not_the_owner(
    services: Services, clinic: Clinic
) -> None:
    assert guess(services, 7) == [InvalidCredentials] * 5 + [TooManySignInAttempts] * 2
    with pytest.raises(TooManySignInAttempts):  # the right password, from the guesser's address
        services.accounts.authenticate("pat@example.org", PASSWORD, GUESSER)
    for _ in range(6):  # the owner, from their own address
        assert services.accounts.authenticate("pat@example.org", PASSWORD, OWNER).id == (
            clinic.patient.user_id
        )


def test_spellings_of_one_account_count_together(services: Services, clinic: Clinic) -> None:
    spellings = ["pat@example.org", "PAT@EXAMPLE.ORG", " Pat@Example.Org ", "pat@EXAMPLE.org"]
    tried = [guess(services, 1, email=spellings[n % 4])[0] for n in range(6)]
    assert tried == [InvalidCredentials] * 5 + [TooManySignInAttempts]


def test_an_address_trying_many_accounts_is_locked_out_of_every_account(
    services: Services, clinic: Clinic
) -> None:
    tried = [guess(services, 1, email=f"u{n}@example.org")[0] for n in range(21)]
    assert tried == [InvalidCredentials] * 20 + [TooManySignInAttempts]
    with pytest.raises(TooManySignInAttempts):
        services.accounts.authenticate("pat@example.org", PASSWORD, GUESSER)
    assert services.accounts.authenticate("pat@example.org", PASSWORD, OWNER)


def test_only_failed_password_checks_count(services: Services, clinic: Clinic) -> None:
    for _ in range(12):
        services.accounts.authenticate("pat@example.org", PASSWORD, GUESSER)
    assert guess(services, 6) == [InvalidCredentials] * 5 + [TooManySignInAttempts]


def test_a_lockout_lasts_until_its_window_ends_and_says_how_long(
    services: Services, clinic: Clinic, clock
) -> None:
    guess(services, 5)
    clock.advance(timedelta(seconds=20))
    with pytest.raises(TooManySignInAttempts) as refused:
        services.accounts.authenticate("pat@example.org", PASSWORD, GUESSER)
    assert refused.value.retry_after_seconds == 40
    clock.advance(timedelta(seconds=40))
    assert services.accounts.authenticate("pat@example.org", PASSWORD, GUESSER)
    assert guess(services, 1) == [InvalidCredentials]


# -- emails on every path that writes one ---------------------------------------------------

UNSENDABLE = "ctl\u0001x\u0007@ex.am\u0002ple"


@pytest.fixture
def bulk_load(uow_factory, clock, hasher) -> Callable[[str], object]:
    """Loads one patient with ``email`` in bulk, as the demo seeding does."""
    service = BulkLoadService(uow_factory, clock, hasher)
    return lambda email: service.load(
        Actor.system(), LoadClinic(password=PASSWORD, patients=[NewPatient(email, "Ctl")])
    )


def test_no_path_stores_an_address_mail_could_not_carry(
    services: Services, clinic: Clinic, bulk_load
) -> None:
    accounts, patients, admin = services.accounts, services.patients, clinic.admin
    writes = {
        "registration": lambda: register(services, email=UNSENDABLE),
        "admin creates a user": lambda: accounts.create_user(
            admin, CreateUser(UNSENDABLE, PASSWORD, "patient", name="Ctl")
        ),
        "admin changes a user's email": lambda: accounts.update_user(
            admin, clinic.patient.user_id, UpdateUser(email=UNSENDABLE)
        ),
        "admin creates a profile": lambda: patients.create(
            admin,
            CreatePatient(services.new_user(admin, "patient"), "Ctl", UNSENDABLE),
        ),
        "a patient changes their contact email": lambda: patients.update(
            clinic.patient, clinic.patient.patient_id, UpdatePatient(email=UNSENDABLE)
        ),
        "bulk load": lambda: bulk_load(UNSENDABLE),
    }
    assert {name: outcome(write) for name, write in writes.items()} == dict.fromkeys(
        writes, InvalidInput
    )
    assert services.accounts.authenticate("pat@example.org", PASSWORD, OWNER)
    profile = services.patients.get(clinic.admin, clinic.patient.patient_id)
    assert profile["email"] == "pat@example.org"
    assert services.accounts.list_users(clinic.admin, WIDE).total == 6  # + new_user's
