"""The shared kernel: infrastructure every feature may use (errors, request inputs, templating,
logging, China time, files and images, upload checks, the private file store, crypto and key
rotation, the one audit log, the deferred-jobs outbox, the read replica, per-app registries)
and imports no feature.

Plugs in (first, before any feature): the error handlers, the id converter and input checks,
the template helpers, /healthz, `flask crypto`, the private store's files for `flask crypto
rotate`, and the periodic upkeep of the job queues; and it resolves psycopg's dumpers before
request threads can race for them."""
from flask import Flask

JOB_UPKEEP_SECONDS = 30


def register(app: Flask) -> None:
    from app.core import key_rotation
    from app.core.commands import crypto_cli
    from app.core.errors import register_error_handlers
    from app.core.outbox import flush_deferred_jobs
    from app.core.params import register_request_inputs
    from app.core.plugins import PeriodicJob, register_periodic_jobs
    from app.core.psycopg_adapters import resolve_named_dumpers
    from app.core.templating import register_template_helpers
    from app.core.storage import encrypted_files
    from app.core.views import bp
    from app.core import outbox
    from app.core.jobs import OUTBOX_KEY, requeue_abandoned_jobs

    app.extensions[OUTBOX_KEY] = outbox
    resolve_named_dumpers()
    register_request_inputs(app)
    register_error_handlers(app)
    register_template_helpers(app)
    app.register_blueprint(bp)
    app.cli.add_command(crypto_cli)
    key_rotation.register_encrypted_files(app, "core.private_documents", encrypted_files)
    # Keeping the queues whole: jobs that waited out a Redis outage, jobs whose worker died.
    register_periodic_jobs(app, PeriodicJob(flush_deferred_jobs, JOB_UPKEEP_SECONDS),
                           PeriodicJob(requeue_abandoned_jobs, JOB_UPKEEP_SECONDS))
