"""The ``candour`` command."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer

from shared.config import SERVICES, ServiceName, Settings, get_settings
from shared.logging import configure_logging

app = typer.Typer(
    help="Candour: one trust-wide standard for restrictive interventions.",
    no_args_is_help=True,
    add_completion=False,
)
seed_app = typer.Typer(help="Seed data.", no_args_is_help=True)
app.add_typer(seed_app, name="seed")
audit_app = typer.Typer(help="The incidents audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
reporting_app = typer.Typer(help="The reporting service's read model.", no_args_is_help=True)
app.add_typer(reporting_app, name="reporting")


def _service(name: str, allowed: tuple[str, ...] = SERVICES) -> ServiceName:
    if name not in allowed:
        raise typer.BadParameter(f"choose one of: {', '.join(allowed)}")
    return name  # type: ignore[return-value]


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        typer.echo(f"Refusing to start: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def dev() -> None:
    """Embedded mode: all three services on ports 8001-8003, SQLite under var/, demo trust."""
    from services.dev import Embedded, banner

    settings = _settings()
    configure_logging(settings.log_level)
    embedded = Embedded(settings)
    asyncio.run(embedded.run(on_ready=lambda: typer.echo(banner(settings))))


@app.command()
def api(
    service: Annotated[str, typer.Argument(help="incidents, notifications or reporting")],
    workers: Annotated[int | None, typer.Option(help="uvicorn workers")] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve one API (production: several uvicorn workers)."""
    import uvicorn

    settings = _settings()
    name = _service(service)
    configure_logging(settings.log_level, name)
    uvicorn.run(
        f"services.{name}.main:create_app",
        factory=True,
        host=settings.host,
        port=port or settings.port(name),
        workers=workers or settings.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@app.command()
def worker(
    service: Annotated[str, typer.Argument(help="notifications or reporting")],
    burst: Annotated[bool, typer.Option(help="Stop when the queue is empty")] = False,
) -> None:
    """Consume a service's events from Redis (arq)."""
    from services import catalog
    from services.workers import CONSUMERS, build_worker

    settings = _settings()
    name = _service(service, CONSUMERS)
    configure_logging(settings.log_level, name)
    if not settings.redis_url:
        raise typer.BadParameter("set CANDOUR_REDIS_URL")
    build_worker(catalog.context(name, settings), burst=burst).run()


@app.command()
def relay(
    service: Annotated[str, typer.Argument(help="incidents, notifications or reporting")],
    once: Annotated[bool, typer.Option(help="Publish what is waiting, then stop")] = False,
) -> None:
    """Publish a service's outbox to Redis."""
    from services import catalog
    from services.workers import run_relay

    settings = _settings()
    name = _service(service)
    configure_logging(settings.log_level, name)
    if not settings.redis_url:
        raise typer.BadParameter("set CANDOUR_REDIS_URL")
    published = asyncio.run(run_relay(catalog.context(name, settings), once=once))
    if once:
        typer.echo(f"published {published} events")


@app.command()
def migrate(
    services: Annotated[list[str] | None, typer.Argument(help="Default: all")] = None,
) -> None:
    """Apply each service's database migrations."""
    from services import catalog

    settings = _settings()
    names = [_service(s) for s in services] if services else list(SERVICES)

    async def _run() -> None:
        for name in names:
            ctx = catalog.context(name, settings)
            try:
                await catalog.migrate(ctx)
            finally:
                await ctx.db.dispose()
            typer.echo(f"{name}: migrated")

    asyncio.run(_run())


@app.command()
def token(
    role: Annotated[
        str, typer.Option(help="recorder, school_lead, dsl, trust_lead, governor, ...")
    ],
    trust: Annotated[str, typer.Option(help="DfE trust reference")] = "TR00001",
    school: Annotated[list[str] | None, typer.Option(help="A school URN; repeat for more")] = None,
    hours: Annotated[float, typer.Option(help="Lifetime")] = 12.0,
    scope: Annotated[str | None, typer.Option(help="Space-separated scopes")] = None,
) -> None:
    """Print a development JWT (HS256, the configured secret)."""
    from shared.auth.jwt import issue_token

    settings = _settings()
    try:
        typer.echo(
            issue_token(
                settings,
                role=role,
                trust_id=trust,
                schools=school or None,
                ttl=timedelta(hours=hours),
                scope=scope,
            )
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@seed_app.command("dev")
def seed_dev() -> None:
    """Seed the small demo trust TR00001 that `candour dev` starts with (once).

    Four schools of different settings, pupils with parents' contacts (the pupils the
    OpenAPI examples name), staff, and some historic incidents; the events wait in the
    outboxes for the relays.
    """
    from services import catalog, demo

    settings = _settings()

    async def _run() -> None:
        inc = catalog.context("incidents", settings)
        notif = catalog.context("notifications", settings)
        try:
            for ctx in (inc, notif):
                await catalog.migrate(ctx)
            if await demo.seed_incidents(inc):
                n = await demo.seed_notifications(notif)
                typer.echo(f"seeded {demo.DEMO_TRUST} with {n} parent contacts")
            else:
                typer.echo(f"{demo.DEMO_TRUST} is already seeded")
        finally:
            await inc.db.dispose()
            await notif.db.dispose()

    asyncio.run(_run())


@seed_app.command("demo")
def seed_demo(
    schools: Annotated[int, typer.Option(min=6, max=200, help="Schools in the trust")] = 12,
    years: Annotated[int, typer.Option(min=1, max=10, help="Past academic years")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same trust)")] = 1,
    trust: Annotated[str, typer.Option(help="DfE trust reference")] = "TR00001",
) -> None:
    """Generate a realistic demo trust with planted patterns (historic: sends nothing).

    The history runs from September, ``years`` academic years ago, to yesterday; the
    events are then relayed to reporting (and notifications, which sends nothing for
    historic records), as embedded mode would.
    """
    from services import catalog, demo_seed
    from services.workers import consumer_handler, provider_for
    from shared.bus.embedded import EmbeddedBus
    from shared.outbox.relay import Relay

    settings = _settings()

    async def _run() -> None:
        ctxs = {name: catalog.context(name, settings) for name in SERVICES}
        try:
            for ctx in ctxs.values():
                await catalog.migrate(ctx)
            counts = await demo_seed.seed_generated(
                ctxs["incidents"],
                ctxs["notifications"],
                trust=trust,
                schools=schools,
                years=years,
                seed=seed,
            )
            if counts is None:
                typer.echo(f"{trust} is already seeded")
                return
            bus = EmbeddedBus()
            provider = provider_for(settings)
            for consumer in ("notifications", "reporting"):
                bus.subscribe(consumer, consumer_handler(ctxs[consumer], provider))
            relays = [
                Relay(name, ctxs[name].db, catalog.SPECS[name].outbox, bus)
                for name in ("incidents", "notifications")
            ]
            while sum([await r.drain() for r in relays]):
                pass
            typer.echo(
                f"seeded {trust}: {counts['schools']} schools, {counts['pupils']} pupils, "
                f"{counts['incidents']} incidents"
            )
        finally:
            for ctx in ctxs.values():
                await ctx.db.dispose()

    asyncio.run(_run())


@audit_app.command("verify")
def audit_verify(
    trust: Annotated[str | None, typer.Option(help="One trust (TR and five digits)")] = None,
) -> None:
    """Walk the audit log's hash chain; exit 1 on any gap or change."""
    from services import catalog
    from services.incidents.audit import verify

    settings = _settings()

    async def _run() -> tuple[int, list[object]]:
        ctx = catalog.context("incidents", settings)
        try:
            async with ctx.db.transaction() as conn:
                count, breaks = await verify(conn, trust)
                return count, list(breaks)
        finally:
            await ctx.db.dispose()

    count, breaks = asyncio.run(_run())
    for b in breaks:
        typer.echo(f"BROKEN {b.trust_id} entry {b.seq}: {b.problem}", err=True)  # type: ignore[attr-defined]
    if breaks:
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {count} entries")


@reporting_app.command("rebuild")
def reporting_rebuild(
    trust: Annotated[
        list[str] | None, typer.Option(help="Trust to rebuild; repeat. Default: all known")
    ] = None,
    incidents_url: Annotated[str | None, typer.Option(help="Default: configured host:port")] = None,
    notifications_url: Annotated[str | None, typer.Option()] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="CANDOUR_SERVICE_TOKEN", help="service-role JWT (default: issued)"),
    ] = None,
) -> None:
    """Empty the reporting read model and replay the producers' change feeds into it."""
    import httpx

    from services import catalog
    from services.reporting import rebuild
    from shared.auth.jwt import issue_token

    settings = _settings()
    urls = {
        "incidents": incidents_url or f"http://{settings.host}:{settings.port('incidents')}",
        "notifications": notifications_url
        or f"http://{settings.host}:{settings.port('notifications')}",
    }

    async def _run() -> None:
        ctx = catalog.context("reporting", settings)
        try:
            await catalog.migrate(ctx)
            trusts = trust or await rebuild.trusts_known(ctx) or ["TR00001"]
            for trust_id in trusts:
                bearer = token or issue_token(
                    settings, role="service", trust_id=trust_id, subject="svc:reporting-rebuild"
                )
                clients = {n: httpx.AsyncClient(base_url=u, timeout=60) for n, u in urls.items()}
                try:
                    counts = await rebuild.rebuild(ctx, trust_id, clients, bearer)
                finally:
                    for c in clients.values():
                        await c.aclose()
                typer.echo(
                    f"{trust_id}: " + ", ".join(f"{n} {k} events" for n, k in counts.items())
                )
        finally:
            await ctx.db.dispose()

    asyncio.run(_run())


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
