"""Cost Code Portal: the application factory."""
from __future__ import annotations

import gc
from typing import Any

from flask import Flask, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import extensions
from portal.config import PROJECT_ROOT, Config, instance_secret_key
from portal.extensions import compress, csrf, limiter, login_manager, migrate


def _showing_a_page() -> bool:
    # GET and HEAD change nothing (the few that do write go through a service transaction).
    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def create_app(config_class: type[Config] = Config, **overrides: Any) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(config_class.INSTANCE_DIR),
    )
    # Before any blueprint adds its rules: an id no row can have is a 404.
    from portal.web.input import RowIdConverter

    app.url_map.converters["int"] = RowIdConverter
    app.config.from_object(config_class)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(config_class.INSTANCE_DIR)
    if app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_NAME"] == "session":
        # A __Host- cookie is only ever set over HTTPS, for this host and path "/": neither a
        # subdomain nor a plain-HTTP page can plant one.
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    if app.config["TRUSTED_PROXIES"]:
        # The client's address (log-in throttling, logs) from that many proxies' X-Forwarded-For,
        # never from the header as a client sent it.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    # --- Running it for years (issue 19): logs ---
    from portal.logs import init_request_logging

    init_request_logging(app)

    from portal import models  # noqa: F401  (registers the tables)
    from portal.db.engine import configure_engine

    # The extension through its module: `portal.db` is the database package, not the extension.
    db = extensions.db
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, reads_only=_showing_a_page)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)

    from portal.auth.session import init_login

    init_login(app, login_manager)

    from portal.auth.directory_login import init_directory_sign_in

    init_directory_sign_in(app)  # issue 17: directory sign-in, when LDAP_URL is set

    from portal.auth.proxy_sign_in import init_proxy_sign_in

    init_proxy_sign_in(app)  # issue 17: a trusted proxy's header, when REMOTE_USER_HEADER is set

    from portal.services.notifications import mail_settings

    mail_settings(app.config)  # issue 17: a wrong SMTP_URL stops the start, naming the setting

    from portal.tasks import configure_huey

    configure_huey(app)

    from portal.auth import bp as auth_bp
    from portal.company_admin import bp as company_admin_bp
    from portal.erp_integrations import bp as erp_integrations_bp
    from portal.project_admin import bp as project_admin_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(company_admin_bp, url_prefix="/company-admin")
    app.register_blueprint(erp_integrations_bp, url_prefix="/erp-integrations")
    app.register_blueprint(project_admin_bp, url_prefix="/projects")

    # --- Running it for years (issue 19): health ---
    from portal.health import bp as health_bp

    app.register_blueprint(health_bp)
    from portal.notifications import bp as notifications_bp  # issue 17: Account → Notifications

    app.register_blueprint(notifications_bp)

    from portal.web import init_web

    init_web(app)

    # --- Running it for years (issue 19): faults ---
    from portal.faults import init_fault_pages

    init_fault_pages(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def settle_for_serving() -> None:
    """For a process that will serve requests or run tasks, once its app is built.

    What exists by now (modules, the app, SQLAlchemy's mappings) lives as long as the process,
    so the garbage collector's full passes need not walk it again: each pass over it paused
    whichever request or task set it off (bench/RESULTS.md has the measurement). Not for tests,
    which build an app per test and must let each one go.
    """
    gc.collect()
    gc.freeze()
