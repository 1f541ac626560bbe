"""The shared kernel: audit-free infrastructure every feature may use (errors, request inputs,
templating, logging, files and images, crypto and key rotation, the deferred-jobs outbox, the
read replica, per-app registries) and imports no feature.

Plugs in (first, before any feature): the error handlers, the id converter and input checks,
the template helpers, /healthz, `flask crypto`, and the periodic upkeep of the job queues."""
from flask import Flask

JOB_UPKEEP_SECONDS = 30


def register(app: Flask) -> None:
    from app.core.commands import crypto_cli
    from app.core.errors import register_error_handlers
    from app.core.outbox import flush_deferred_jobs
    from app.core.params import register_request_inputs
    from app.core.plugins import PeriodicJob, register_periodic_jobs
    from app.core.templating import register_template_helpers
    from app.core.views import bp
    from app.jobs import requeue_abandoned_jobs

    register_request_inputs(app)
    register_error_handlers(app)
    register_template_helpers(app)
    app.register_blueprint(bp)
    app.cli.add_command(crypto_cli)
    # Keeping the queues whole: jobs that waited out a Redis outage, jobs whose worker died.
    register_periodic_jobs(app, PeriodicJob(flush_deferred_jobs, JOB_UPKEEP_SECONDS),
                           PeriodicJob(requeue_abandoned_jobs, JOB_UPKEEP_SECONDS))
