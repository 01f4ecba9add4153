"""`signaalhub serve`: the HTTP API, plus the broker subscribers when HUB_NATS_URL is set."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from adapters.cli.running import console, errors, load_settings, run
from adapters.http.app import create_app
from projections.catalogue import all_projections
from projections.runner import ProjectionRunner
from services.access.users import load_users
from services.bootstrap import open_migrated_event_store
from services.config_files import ConfigError
from services.privacy.keys import MasterKeyError, install_keyring, load_keyring
from services.referrals.teams import load_teams
from services.routing.config import load_projects
from services.settings import Settings


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
) -> None:
    """Run the hub: the HTTP API on HOST:PORT and the projections following the log; with
    HUB_NATS_URL set also the NATS JetStream intake and the outbox relay (referral
    notifications, partner feedback). On the embedded default no other server is needed."""
    settings = load_settings()
    try:  # fail fast, before a port is bound, on configuration the requests will need
        load_teams(settings.config_dir)
        load_users(settings.config_dir)
        load_projects(settings.config_dir)
        install_keyring(load_keyring(settings))
    except (ConfigError, MasterKeyError) as error:
        errors.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    broker = (
        f"NATS {settings.redacted_nats_url()}"
        if settings.nats_url
        else "no broker (HUB_NATS_URL unset)"
    )
    console.print(f"Signaalhub on http://{host}:{port}/v1 — {broker}")
    try:
        run(_serve(settings, host, port))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


async def _keep_projections_current(settings: Settings) -> None:
    """The read models follow the log while the hub runs; several hubs may all do this."""
    store = await open_migrated_event_store(settings)
    try:
        await ProjectionRunner(store, all_projections()).follow()
    finally:
        await store.close()


async def _relay_outbox(settings: Settings, nats_url: str) -> None:
    """Referral notifications and partner feedback from the outbox to NATS JetStream."""
    from adapters.broker.outbox_relay import OutboxRelay

    store = await open_migrated_event_store(settings)
    try:
        await OutboxRelay(store, nats_url).run(asyncio.Event())
    finally:
        await store.close()


async def _serve(settings: Settings, host: str, port: int) -> None:
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    tasks = [
        asyncio.create_task(server.serve()),
        asyncio.create_task(_keep_projections_current(settings)),
    ]
    if settings.nats_url:
        from adapters.broker.signal_intake import run_intake_broker

        tasks.append(asyncio.create_task(run_intake_broker(settings)))
        tasks.append(asyncio.create_task(_relay_outbox(settings, settings.nats_url)))
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    # Let the cancelled side finish its shutdown (drain the broker, close the store).
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()
