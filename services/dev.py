"""Embedded mode: the three APIs, relays, consumers and sweeper in one process.

SQLite files under ``var/``, an in-process bus, the development message provider writing
to ``var/outbox/``, and the demo trust seeded on first start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import uvicorn

from services import catalog, demo
from services.notifications import service as notifications
from services.workers import consumer_handler, provider_for
from shared.auth.jwt import issue_token
from shared.bus.embedded import EmbeddedBus
from shared.config import SERVICES, Settings
from shared.outbox.relay import Relay
from shared.runtime import ServiceContext

log = logging.getLogger("candour.dev")


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to embedded mode, which stops all three at once."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


@dataclass
class Embedded:
    """Everything embedded mode runs, started and stopped together."""

    settings: Settings
    contexts: dict[str, ServiceContext] = field(default_factory=dict)
    relays: list[Relay] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def prepare(self) -> None:
        """Open databases, migrate them, and seed the demo trust on first start."""
        for name in SERVICES:
            ctx = catalog.context(name, self.settings)
            await catalog.migrate(ctx)
            self.contexts[name] = ctx
        provider = provider_for(self.settings)
        bus = EmbeddedBus()
        for consumer in ("notifications", "reporting"):
            bus.subscribe(consumer, consumer_handler(self.contexts[consumer], provider))
        self.provider = provider
        self.relays = [
            Relay(
                name,
                ctx.db,
                catalog.SPECS[name].outbox,
                bus,
                batch_size=self.settings.relay_batch_size,
                clock=ctx.clock,
            )
            for name, ctx in self.contexts.items()
        ]
        if self.settings.demo_seed and await demo.seed_incidents(self.contexts["incidents"]):
            await demo.seed_notifications(self.contexts["notifications"])

    async def _every(
        self, seconds: float, work: Callable[[], Awaitable[object]], what: str
    ) -> None:
        while not self.stop.is_set():
            try:
                await work()
            except Exception:
                log.exception("background pass failed", extra={"task": what})
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=seconds)
            except TimeoutError:
                pass

    async def _relay_all(self) -> None:
        for relay in self.relays:
            await relay.drain()

    async def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until stopped."""
        await self.prepare()
        servers = []
        for name in SERVICES:
            app = catalog.SPECS[name].create_app(self.contexts[name])
            config = uvicorn.Config(
                app,
                host=self.settings.host,
                port=self.settings.port(name),  # type: ignore[arg-type]
                log_config=None,
                access_log=False,
                lifespan="on",
            )
            servers.append(_Server(config))
        tasks = [asyncio.create_task(s.serve()) for s in servers]
        tasks.append(
            asyncio.create_task(
                self._every(self.settings.relay_interval_seconds, self._relay_all, "relay")
            )
        )
        tasks.append(
            asyncio.create_task(
                self._every(
                    self.settings.sweep_interval_seconds,
                    lambda: notifications.sweep(self.contexts["notifications"], self.provider),
                    "sweeper",
                )
            )
        )
        while not all(s.started for s in servers):
            if any(t.done() for t in tasks[: len(servers)]):
                break
            await asyncio.sleep(0.05)
        if on_ready and all(s.started for s in servers):
            on_ready()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        stop_wait = asyncio.create_task(self.stop.wait())
        await asyncio.wait([stop_wait, *tasks[: len(servers)]], return_when=asyncio.FIRST_COMPLETED)
        self.stop.set()
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        stop_wait.cancel()
        for ctx in self.contexts.values():
            await ctx.db.dispose()


def banner(settings: Settings) -> str:
    """The URLs and ready-to-use development tokens."""
    lines = [
        "",
        "Candour is running (embedded mode: SQLite under "
        f"{settings.var_dir}/, in-process bus, messages in {settings.outbox_dir}/).",
        "",
    ]
    for name in SERVICES:
        base = f"http://{settings.host}:{settings.port(name)}"
        lines.append(f"  {name:<14} {base}   docs: {base}/docs")
    lines += ["", f"Demo trust {demo.DEMO_TRUST} ({demo.DEMO_TRUST_NAME}); tokens valid 12 hours:"]
    for role in ("recorder", "trust_lead", "governor"):
        token = issue_token(settings, role=role, trust_id=demo.DEMO_TRUST, ttl=timedelta(hours=12))
        lines += [f"  {role}:", f"    {token}"]
    lines += ["", "More: .venv/bin/candour token --role ROLE [--school URN]. Ctrl-C stops.", ""]
    return "\n".join(lines)
