"""Command-line tools: ``flask --app app api-keys create|list|revoke``."""

import click
from flask.cli import AppGroup

from services.api_keys import ROLES, create_api_key, list_api_keys, revoke_api_key
from services.errors import ServiceError


def register_cli(app):
    """Attach the project's command groups to the Flask CLI."""
    app.cli.add_command(api_keys)


@click.group("api-keys", cls=AppGroup)
def api_keys():
    """Manage API keys (stored hashed; a key is printed once, at creation).

    An AppGroup, so each command runs inside the app context however it is invoked
    (``flask`` pushes one itself, ``app.test_cli_runner()`` does not).
    """


@api_keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin, recruiter, viewer or auditor")
@click.option("--name", required=True, help="Who or what uses the key, e.g. 'greenhouse-sync'")
@click.option("--quiet", is_flag=True, help="Print only the key (for scripts)")
def create_key(role, name, quiet):
    """Create an API key and print it once."""
    try:
        api_key, plaintext = create_api_key(name=name, role=role)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    if quiet:
        click.echo(plaintext)
        return
    click.echo(f"Created API key {api_key.id} ({api_key.name}, role {api_key.role}).")
    click.echo("Store it now; it cannot be shown again:")
    click.echo(plaintext)


@api_keys.command("list")
def list_keys():
    """List API keys (id, name, role, prefix, created, last used, revoked)."""
    for key in list_api_keys():
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        last_used = key.last_used_at.isoformat() if key.last_used_at else "-"
        click.echo(f"{key.id}\t{key.name}\t{key.role}\t{key.key_prefix}…\tcreated {key.created_at.isoformat()}\tlast used {last_used}\trevoked {revoked}")


@api_keys.command("revoke")
@click.argument("key_id", type=int)
def revoke_key(key_id):
    """Revoke an API key by id."""
    try:
        key = revoke_api_key(key_id)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Revoked API key {key.id} ({key.name}).")
