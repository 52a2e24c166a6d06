"""`flask erp ...`: what accounting staff do in the embedded reference ERP.

The app registers the group with `app.cli.add_command(erp_cli)`; the ERP database URL comes
from the app's config key ERP_DATABASE_URL.
"""

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.erp import formats
from portal.erp.base import FORMAT_ERRORS, ErpError
from portal.erp.reference import ReferenceErp

company_option = click.option("--company", "key", required=True, help="The ERP company key.")


@click.group("erp")
def erp_cli():
    """Act on the embedded reference ERP as accounting staff would."""


def _run(action):
    """Run an action on the reference ERP; bad input becomes a one-line error and exit 1."""
    erp = ReferenceErp(current_app.config["ERP_DATABASE_URL"])
    try:
        result = action(erp)
        if erp.migration_note:
            click.echo(erp.migration_note, err=True)
        return result
    except (*FORMAT_ERRORS, ErpError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        erp.dispose()


@erp_cli.command("add-company")
@click.argument("key")
@click.option(
    "--erp",
    "erp_system",
    required=True,
    type=click.Choice(sorted(formats.ERP_NAMES)),
    help="The accounting system the company keeps its books in.",
)
@with_appcontext
def add_company(key, erp_system):
    """Create company KEY in the reference ERP (with its ERP's standard cost types)."""
    _run(lambda erp: erp.ensure_company(key, erp_system))
    click.echo(f'Company "{key}" uses {formats.ERP_NAMES[erp_system]}.')


@erp_cli.command("add-cost-code")
@click.argument("code")
@click.argument("description")
@click.option("--division", default=None, help="Defaults to the code's tier-1 division.")
@company_option
@with_appcontext
def add_cost_code(code, description, division, key):
    """Add (or update) a standard cost code."""
    added = _run(lambda erp: erp.add_standard_cost_code(key, code, description, division))
    click.echo(f'Added cost code {added.code} "{added.description}" (division {added.division}).')


@erp_cli.command("add-division")
@company_option
@click.argument("number")
@click.argument("name")
@with_appcontext
def add_division(key, number, name):
    """Add (or rename) a Sage 100 Contractor cost division."""
    _run(lambda erp: erp.add_division(key, number, name))
    click.echo(f'Division {number.strip()} "{name.strip()}".')


@erp_cli.command("add-job")
@company_option
@click.argument("number")
@click.argument("name")
@with_appcontext
def add_job(key, number, name):
    """Add a job (an existing job is left as it is)."""
    job = _run(lambda erp: erp.add_job(key, number, name))
    click.echo(f'Job {job.number} "{job.name}".')


@erp_cli.command("add-cost-type")
@company_option
@click.argument("code")
@click.argument("name")
@with_appcontext
def add_cost_type(key, code, name):
    """Add (or rename) a cost type (Sage 300 CRE: category)."""
    cost_type = _run(lambda erp: erp.add_cost_type(key, code, name))
    click.echo(f'Cost type {cost_type.code} "{cost_type.name}".')


@erp_cli.command("list-codes")
@company_option
@click.option("--job", "job_number", default=None, help="List the job's cost codes instead.")
@with_appcontext
def list_codes(key, job_number):
    """List the standard cost codes, or a job's cost codes with their cost types."""
    if job_number is None:
        codes = _run(lambda erp: erp.list_standard_codes(key))
        rows = [(code.code, code.description, code.division) for code in codes]
        headers = ("Code", "Description", "Division")
    else:
        codes = _run(lambda erp: erp.list_job_codes(key, job_number))
        rows = [(code, description, ", ".join(types)) for code, description, types in codes]
        headers = ("Code", "Description", "Cost types")
        if codes and _run(lambda erp: erp.erp_system(key)) == formats.SAGE100:
            # bdglin has an amount column per cost type, no cost type column (sage100_database).
            click.echo("Sage 100 Contractor budget lines carry no cost type: the column shows the cost "
                       "types with a budget amount; the portal records which cost types were approved.")
    if not rows:
        click.echo("No cost codes.")
        return
    click.echo(_table(headers, rows))


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, tuple("-" * width for width in widths), *rows]
    ]
    return "\n".join(lines)
