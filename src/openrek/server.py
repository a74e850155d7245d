"""`openrek server`: composes settings, stores, the job runner and the API, and serves them with uvicorn.

The composition root: the only module that knows every layer. It prints the endpoint URL once the
socket accepts requests and shuts down cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from openrek.config import DEFAULT_HOST, Settings, default_data_dir, default_port


@dataclass
class Runtime:
    settings: Settings
    app: object
    runner: object


def build_runtime(settings: Settings) -> Runtime:
    from openrek.api.app import create_app
    from openrek.jobs.model_host import ModelHost
    from openrek.jobs.runner import LocalJobRunner
    from openrek.security.authenticator import Authenticator
    from openrek.security.identities import PROFILE, Identities
    from openrek.service.rekognition import copying, dataset_work
    from openrek.service.rekognition.provider import RekognitionProvider
    from openrek.service.rekognition.training_jobs import MODELS_BUCKET
    from openrek.store.database import migrate, open_engine
    from openrek.store.metadata import MetadataStore
    from openrek.store.objects import DirectoryObjectStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = open_engine(settings.sqlalchemy_url)
    migrate(engine)
    metadata = MetadataStore(engine)
    objects = DirectoryObjectStore(settings.objects_dir)
    if not objects.bucket_exists(MODELS_BUCKET):
        objects.create_bucket(MODELS_BUCKET)
    inline = {dataset_work.JOB_KIND: dataset_work.DatasetWork(metadata, objects),
              copying.JOB_KIND: copying.CopyWork(metadata, objects)}
    runner = LocalJobRunner(metadata, str(settings.objects_dir), workers=settings.workers, inline=inline)
    models = ModelHost(metadata, objects)
    provider = RekognitionProvider(metadata, objects, wake_worker=runner.wake,
                                   training_budget_s=settings.training_budget_s, models=models,
                                   training_options=settings.training_options)

    def on_startup() -> None:
        runner.start()
        models.restore()

    authenticator = Authenticator(None, settings.account_id)
    if settings.auth:
        identities = Identities(metadata)
        root_key, written = identities.ensure_root(settings.account_id, settings.data_dir)
        authenticator = Authenticator(identities, settings.account_id)
        where = (f"written to {written} (profile {PROFILE})" if written is not None
                 else "from OPENREK_ROOT_ACCESS_KEY_ID / OPENREK_ROOT_SECRET_ACCESS_KEY")
        print(f"openrek verifies SigV4 signatures; root access key {root_key} {where}", flush=True)
    else:
        print("openrek is OPEN: requests are not authenticated (any credentials act as account "
              f"{settings.account_id}). Use --auth on before sharing this server.", flush=True)
    app = create_app(provider, objects, settings.account_id, settings.default_region,
                     on_startup=on_startup, on_shutdown=runner.stop, authenticator=authenticator)
    return Runtime(settings=settings, app=app, runner=runner)


class _AnnouncingServer(uvicorn.Server):
    """Prints the endpoint URL once the listening socket is bound (port 0 shows the real port)."""

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets=sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(f"openrek is listening on http://{host}:{port}", flush=True)

    async def _serve(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super()._serve(sockets=sockets)
        # A SIGINT/SIGTERM that led to this graceful shutdown is handled: exit 0 instead of re-raising it.
        self._captured_signals.clear()
        print("openrek stopped", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="openrek server", description="Run the openrek server.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port(),
                        help="port (default $OPENREK_PORT or 4599; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(),
                        help="where metadata and objects live (default $OPENREK_DATA_DIR or ~/.openrek)")
    parser.add_argument("--workers", type=int, default=None, help="training worker processes (default 1)")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--auth", choices=["on", "off"], default=None,
                        help="verify SigV4 signatures against the server's accounts (default $OPENREK_AUTH or off)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings(data_dir=args.data_dir.expanduser(), host=args.host, port=args.port)
    if args.workers:
        settings.workers = args.workers
    if args.auth is not None:
        settings.auth = args.auth == "on"
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = build_runtime(settings)
    config = uvicorn.Config(runtime.app, host=settings.host, port=settings.port, log_level=args.log_level,
                            access_log=False, lifespan="on", timeout_graceful_shutdown=5)
    server = _AnnouncingServer(config)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
