"""User accounts, for admins: create any role, read, deactivate."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask.views import MethodView

from healthcare.application.commands import CreateUser, UpdateUser
from healthcare.application.read_model import user_view
from healthcare.application.services import AccountService
from healthcare.domain.users import Role
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.users import (
    UserIn,
    UserOut,
    UserPatch,
    UserQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles

blp = resource("users", "/api/users", "User accounts (admins only).")


@blp.route("/")
class Users(MethodView):
    @roles("admin")
    @blp.doc(operationId="listUsers")
    @blp.arguments(UserQuery, location="query")
    @blp.response(200, UserOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401, 403)
    @inject
    def get(
        self, args: dict[str, Any], accounts: AccountService = Provide["account_service"]
    ) -> Any:
        """List users, optionally of one role"""
        page = page_request(args)
        role = Role(args["role"]) if args.get("role") else None
        return paginated(accounts.list_users(current_actor(), page, role=role))

    @roles("admin")
    @blp.doc(operationId="createUser")
    @blp.arguments(
        UserIn,
        example={"email": "smith@clinic.test", "password": "doctor-password-1", "role": "doctor"},
    )
    @blp.response(201, UserOut)
    @documents(blp, 401, 403, 409)
    @inject
    def post(
        self, body: dict[str, Any], accounts: AccountService = Provide["account_service"]
    ) -> Response:
        """Create a user of any role (with a profile when a name is given)"""
        created = accounts.create_user(current_actor(), CreateUser(**body))
        return answer(user_view(created.user), 201)


@blp.route("/<id:user_id>/")
class UserItem(MethodView):
    @roles("admin")
    @blp.doc(operationId="getUser")
    @blp.response(200, UserOut)
    @documents(blp, 401, 403, 404)
    @inject
    def get(self, user_id: int, accounts: AccountService = Provide["account_service"]) -> Response:
        """Read a user"""
        return answer(accounts.get_user(current_actor(), user_id))

    @roles("admin")
    @blp.doc(operationId="updateUser")
    @blp.arguments(UserPatch, example={"is_active": False})
    @blp.response(200, UserOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def patch(
        self,
        body: dict[str, Any],
        user_id: int,
        accounts: AccountService = Provide["account_service"],
    ) -> Response:
        """Change a user: deactivate or reactivate (is_active), email, password"""
        return answer(user_view(accounts.update_user(current_actor(), user_id, UpdateUser(**body))))
