"""The schema the tests run on is built by the migrations; it must equal the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db as _db


def test_migrations_bring_the_database_to_the_models(app, db):
    with _db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, _db.metadata)
    assert differences == []


def test_database_is_at_the_single_head(app, db):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    config = Config(f"{app.extensions['migrate'].directory}/alembic.ini")
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1
    with _db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == heads[0]
    assert "alembic_version" in inspect(_db.engine).get_table_names()
