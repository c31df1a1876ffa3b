"""Command-line tools: ``flask --app app api-keys create|list|revoke``, ``usage``, ``claude check``."""

import click
from flask import current_app
from flask.cli import AppGroup

from claude_client import deprecation_warnings
from cli_usage import usage as usage_cli
from services.api_keys import (
    ROLES,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    set_token_budgets,
)
from services.errors import ServiceError
from services.webhooks import set_webhook


def register_cli(app):
    """Attach the project's command groups to the Flask CLI."""
    app.cli.add_command(api_keys)
    app.cli.add_command(usage_cli)
    app.cli.add_command(claude_cli)


@click.group("claude", cls=AppGroup)
def claude_cli():
    """Check the Claude configuration against the API."""


@claude_cli.command("check")
def claude_check():
    """Check every purpose's model with the Models API and one tiny request; print model, price, effort.

    Prices are USD per million tokens (input / output / cache write / cache read). Exits 1 when a
    model is retired, unknown, unpriced or the test request fails; deprecation is a warning.
    """
    client = current_app.extensions["claude"]
    rows = client.check()
    click.echo(f"provider {client.provider}; prices in USD per million tokens (input / output / cache write / cache read)")
    for row in rows:
        price = row["price"]
        price_text = f"{price.input} / {price.output} / {price.cache_write} / {price.cache_read}" if price else "unpriced"
        lifecycle = row["lifecycle"] or "?"
        if row["retires_at"]:
            lifecycle += f", retires {row['retires_at']:%Y-%m-%d}" if hasattr(row["retires_at"], "strftime") else f", retires {row['retires_at']}"
        click.echo(
            f"{row['purpose']:<21} {row['model']} ({row['model_setting']})  effort {row['effort'] or 'model default'}"
            f" ({row['effort_setting']})  {lifecycle}  {price_text}  {'OK' if row['problem'] is None else 'PROBLEM: ' + row['problem']}"
        )
    for warning in {row["warning"] for row in rows if row["warning"]}:
        click.echo(f"warning: {warning}")
    for warning in deprecation_warnings({row["model"]: row["model_setting"] for row in rows}):
        click.echo(f"warning: {warning}")
    if any(row["problem"] for row in rows):
        raise SystemExit(1)


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


def _budget(value):
    if value is None:
        return ...
    if value.lower() in ("none", "default"):
        return None
    try:
        return int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise click.BadParameter("a whole number of tokens, or 'none' for the default") from None


@api_keys.command("set-budget")
@click.argument("key_id", type=int)
@click.option("--daily", help="Tokens per UTC day, or 'none' for API_KEY_TOKEN_BUDGET_DAILY")
@click.option("--monthly", help="Tokens per UTC month, or 'none' for API_KEY_TOKEN_BUDGET_MONTHLY")
def set_budget(key_id, daily, monthly):
    """Set an API key's token budgets."""
    try:
        key = set_token_budgets(key_id, daily=_budget(daily), monthly=_budget(monthly))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    show = lambda v: "default" if v is None else f"{v:,}"  # noqa: E731
    click.echo(f"API key {key.id} ({key.name}): daily {show(key.daily_token_budget)}, monthly {show(key.monthly_token_budget)} tokens.")


@api_keys.command("set-webhook")
@click.argument("key_id", type=int)
@click.option("--url", help="Default callback URL of the key's jobs (https; plain http only for WEBHOOK_ALLOWED_HOSTS); "
                            "omitted: keep the stored one; '' clears it")
def set_webhook_command(key_id, url):
    """Make a new webhook signing secret for an API key (replacing any old one) and print it once."""
    config = current_app.config
    try:
        key, secret = set_webhook(key_id, url=url, encryption_key=config.get("WEBHOOK_ENCRYPTION_KEY"),
                                  allowed_hosts=config.get("WEBHOOK_ALLOWED_HOSTS", ""))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:  # a bad WEBHOOK_ALLOWED_HOSTS entry
        raise click.ClickException(str(exc)) from None
    default = key.webhook_url or "none (each job names its callback_url)"
    click.echo(f"API key {key.id} ({key.name}): new webhook signing secret; default URL {default}.")
    click.echo("Any previous secret no longer signs deliveries. Store it now; it cannot be shown again:")
    click.echo(secret)
    click.echo("Receivers verify each delivery with standardwebhooks.Webhook(secret).verify(body, headers), "
               "on the raw body and the webhook-id / webhook-timestamp / webhook-signature headers; dedupe on webhook-id.")
