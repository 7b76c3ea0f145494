"""Alembic environment and revisions (a package, so installs ship it as code)."""
