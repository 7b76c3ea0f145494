"""Use cases on repository ports. Imports no framework: no Flask, no SQLAlchemy."""
