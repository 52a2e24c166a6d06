"""`flask portal …` commands for administrators."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ERP_SYSTEMS, Company, Level

portal_cli = AppGroup("portal", help="Cost Code Portal administration.")


@portal_cli.command("create-company")
@click.argument("name")
@click.option("--slug", required=True, help="Short key, also the company's key in the ERP connector.")
@click.option("--erp", "erp_system", type=click.Choice(sorted(ERP_SYSTEMS)), required=True)
def create_company(name: str, slug: str, erp_system: str) -> None:
    """Create a company."""
    from portal.services import ServiceError
    from portal.services.directory import create_company as create

    try:
        company = create(db.session, name=name, slug=slug, erp_system=erp_system)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created company {company.name} ({company.erp_name}), id {company.id}.")


@portal_cli.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--company", "company_slug", required=True, help="The company's slug.")
@click.option("--admin", is_flag=True, help="Admin on Company Admin and ERP Integrations.")
@click.password_option(help="Asked for when not given.")
def create_user(email: str, name: str, company_slug: str, admin: bool, password: str) -> None:
    """Create a user in a company's directory."""
    from portal.services import ServiceError
    from portal.services.directory import create_user as create

    company = db.session.scalar(select(Company).where(Company.slug == company_slug))
    if company is None:
        raise click.ClickException(f'No company with the slug "{company_slug}".')
    try:
        user = create(
            db.session, company=company, actor=None, email=email, name=name, password=password,
            erp_integrations_level=Level.ADMIN if admin else Level.NONE,
            company_admin_level=Level.ADMIN if admin else Level.NONE,
            min_password_length=current_app.config["MIN_PASSWORD_LENGTH"],
            password_hash_method=current_app.config["PASSWORD_HASH_METHOD"],
        )
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created user {user.email}.")


@portal_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has companies.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo companies, users and projects."""
    from portal.demo import DEMO_PASSWORD, seed_demo

    if if_empty and db.session.scalar(select(func.count()).select_from(Company)):
        click.echo("The database already has data; demo data not loaded.")
        return
    users = seed_demo(db.session, password_hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    _seed_reference_erp()
    click.echo(f"Demo data loaded. Every demo account's password is {DEMO_PASSWORD!r}:")
    for user in users:
        click.echo(f"  {user.email:32} {user.name}")


def _seed_reference_erp() -> None:
    """The reference ERP gets what the demo companies already have in their ERP."""
    from portal.erp.connectors import reference_erp
    from portal.erp.reference_seed import seed_reference_erp

    url = current_app.config["ERP_DATABASE_URL"]
    counts = seed_reference_erp(db.session, reference_erp(url))
    click.echo(
        f"Reference ERP at {url}: {counts.get('companies', 0)} companies, "
        f"{counts.get('jobs', 0)} jobs, {counts.get('job_cost_codes', 0)} job cost codes."
    )


@portal_cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--threads", default=8, type=int)
@click.option("--no-worker", is_flag=True, help="Do not start huey consumer threads in this process.")
def serve(host: str, port: int, threads: int, no_worker: bool) -> None:
    """Serve the portal with waitress, with the background worker beside it."""
    from waitress import serve as waitress_serve

    from portal import settle_for_serving
    from portal.tasks import huey, start_consumer

    settle_for_serving()
    consumer = None
    if not no_worker and not huey.immediate:
        consumer = start_consumer()
    click.echo(f"Cost Code Portal on http://{host}:{port}/  (Ctrl-C stops it)")
    from portal.backup.restore import serving_lock, stop_on_sigterm

    stop_on_sigterm()
    try:
        with serving_lock(current_app.config["INSTANCE_DIR"]):  # restore refuses while it exists
            waitress_serve(current_app._get_current_object(), host=host, port=port, threads=threads)
    except KeyboardInterrupt:
        pass  # Ctrl-C or SIGTERM while waitress was starting
    finally:
        if consumer is not None:
            consumer.stop(graceful=False)
            from portal.services.portal_status import record_worker_stopped

            record_worker_stopped(db.session)
        click.echo("Stopped.")


def register_cli(app: Flask) -> None:
    from portal.backup.cli import add_backup_commands
    from portal.erp.cli import erp_cli

    add_backup_commands(portal_cli)
    app.cli.add_command(portal_cli)
    app.cli.add_command(erp_cli)
