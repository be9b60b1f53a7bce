"""trackd's Alembic revisions (a package only so that setuptools ships them in the wheel)."""
