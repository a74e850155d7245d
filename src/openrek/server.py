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
from typing import TYPE_CHECKING

import uvicorn

from openrek.config import DEFAULT_HOST, Settings, default_data_dir, default_port

if TYPE_CHECKING:
    from openrek.jobs.interface import JobRunner
    from openrek.serving.host import ModelHost


@dataclass
class Runtime:
    settings: Settings
    app: object
    runner: JobRunner


def build_runtime(settings: Settings) -> Runtime:
    from openrek.api.app import create_app
    from openrek.api.json11.handler import JsonService
    from openrek.jobs.runner import LocalJobRunner
    from openrek.security.authenticator import Authenticator
    from openrek.security.identities import PROFILE, Identities
    from openrek.service.kms.provider import KmsProvider
    from openrek.service.rekognition import copying, dataset_work
    from openrek.service.rekognition.provider import RekognitionProvider
    from openrek.service.rekognition.training_jobs import MODELS_BUCKET
    from openrek.serving.local import LocalModelHost
    from openrek.stores import StoreLocation, open_stores

    location = StoreLocation(data_dir=str(settings.data_dir), database_url=settings.sqlalchemy_url,
                             objects_dir=settings.object_store_url)
    stores = open_stores(location, migrate_schema=True)
    metadata, objects, kms_keys = stores.metadata, stores.objects, stores.kms_keys
    if not objects.bucket_exists(MODELS_BUCKET):
        objects.create_bucket(MODELS_BUCKET)
    inline = {dataset_work.JOB_KIND: dataset_work.DatasetWork(metadata, objects),
              copying.JOB_KIND: copying.CopyWork(metadata, objects)}
    for name, engine in (("OPENREK_JOB_ENGINE", settings.job_engine),
                         ("OPENREK_SERVING_ENGINE", settings.serving_engine)):
        if engine not in ("local", "ray"):
            raise SystemExit(f"{name} must be local or ray, not {engine!r}")
        if engine == "ray" and not settings.ray_address:
            raise SystemExit(f"{name}=ray needs RAY_ADDRESS (host:port of the Ray cluster's head)")
    ray_env: dict[str, str] = {}
    if "ray" in (settings.job_engine, settings.serving_engine):
        from openrek.ray_connection import worker_env
        from openrek.security.master_key import master_key_for_workers

        ray_env = worker_env({"OPENREK_MASTER_KEY": master_key_for_workers(settings.data_dir)})
    runner: JobRunner
    if settings.job_engine == "ray":
        from openrek.jobs.ray_runner import RayJobRunner

        runner = RayJobRunner(metadata, location, address=settings.ray_address, workers=settings.workers,
                              env=ray_env, inline=inline, num_cpus=settings.ray_num_cpus,
                              num_gpus=settings.ray_num_gpus)
    else:
        runner = LocalJobRunner(metadata, location, workers=settings.workers, inline=inline)
    models: ModelHost
    if settings.serving_engine == "ray":
        from openrek.serving.ray_host import RayModelHost

        models = RayModelHost(metadata, location, address=settings.ray_address, env=ray_env,
                              replica_cpus=settings.ray_replica_cpus)
    else:
        models = LocalModelHost(metadata, objects)
    provider = RekognitionProvider(metadata, objects, wake_worker=runner.wake,
                                   training_budget_s=settings.training_budget_s, models=models,
                                   training_options=settings.training_options, default_owner=settings.account_id,
                                   kms_keys=kms_keys)
    kms = KmsProvider(kms_keys)

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
        warning = ("openrek is OPEN (--auth off): requests are NOT authenticated; any credentials, or none, act "
                   f"as account {settings.account_id}. For throwaway local use only: leave out --auth off "
                   "(and OPENREK_AUTH=off) before anyone else can reach this server.")
        print(f"WARNING: {warning}", flush=True)
        print(f"WARNING: {warning}", file=sys.stderr, flush=True)
    from openrek.service.iam.provider import IamProvider
    from openrek.service.sts.provider import StsProvider

    query_providers = {"iam": IamProvider(metadata), "sts": StsProvider(metadata)}
    app = create_app(provider, objects, settings.account_id, settings.default_region,
                     on_startup=on_startup, on_shutdown=runner.stop, authenticator=authenticator,
                     query_providers=query_providers, json_services=[JsonService("kms", kms)],
                     kms_keys=kms_keys, metadata_on_loop=metadata.is_local)
    return Runtime(settings=settings, app=app, runner=runner)


class _AnnouncingServer(uvicorn.Server):
    """Prints the endpoint URL once the listening socket is bound (port 0 shows the real port)."""

    def __init__(self, config: uvicorn.Config, scheme: str = "http") -> None:
        super().__init__(config)
        self.scheme = scheme

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets=sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(f"openrek is listening on {self.scheme}://{host}:{port}", flush=True)

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
    parser.add_argument("--tls", default=None, metavar="self-signed|off",
                        help="self-signed: serve HTTPS with a certificate made (once) in <data-dir>/tls "
                             "(default $OPENREK_TLS)")
    parser.add_argument("--tls-cert", type=Path, default=None,
                        help="PEM certificate (chain) to serve HTTPS with (default $OPENREK_TLS_CERT)")
    parser.add_argument("--tls-key", type=Path, default=None,
                        help="PEM private key of --tls-cert (default $OPENREK_TLS_KEY)")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--auth", choices=["on", "off"], default=None,
                        help="on: verify every request's SigV4 signature against the server's accounts (the default); "
                             "off: open mode, everyone is the first account, for throwaway local use "
                             "(default $OPENREK_AUTH, else on)")
    return parser.parse_args(argv)


def apply_tls_flags(settings: Settings, args: argparse.Namespace) -> None:
    """Flags override the environment: --tls replaces every TLS setting, --tls-cert/--tls-key the mode."""
    if args.tls is not None:
        settings.tls_mode = args.tls.strip().lower()
        settings.tls_cert, settings.tls_key = args.tls_cert, args.tls_key
    elif args.tls_cert is not None or args.tls_key is not None:
        settings.tls_mode = ""
        settings.tls_cert = args.tls_cert or settings.tls_cert
        settings.tls_key = args.tls_key or settings.tls_key


def main(argv: list[str] | None = None) -> int:
    from openrek.malloc_arenas import cap_malloc_arenas
    from openrek.security.master_key import MasterKeyError
    from openrek.tls import TlsError, resolve
    from openrek.training.request import ContractError, TrainingOptions

    cap_malloc_arenas()  # before any thread starts (see the module)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings(data_dir=args.data_dir.expanduser(), host=args.host, port=args.port)
    if args.workers:
        settings.workers = args.workers
    if args.auth is not None:
        settings.auth = args.auth == "on"
    apply_tls_flags(settings, args)
    try:  # before anything binds or migrates: a bad certificate is a one-line error, not a traceback
        tls = resolve(settings.data_dir, settings.host, settings.tls_mode, settings.tls_cert, settings.tls_key)
    except TlsError as e:
        print(f"openrek server: error: {e}", file=sys.stderr, flush=True)
        return 2
    if tls is not None and tls.self_signed:
        print(f"openrek TLS certificate (self-signed): {tls.cert} (give it to clients as --ca-bundle)", flush=True)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        TrainingOptions.from_dict(settings.training_options)  # a typo in OPENREK_TRAINING_OPTIONS: refuse to start
        runtime = build_runtime(settings)
    except (MasterKeyError, ContractError) as e:  # e.g. a malformed OPENREK_MASTER_KEY(_FILE): one line
        print(f"openrek server: error: {e}", file=sys.stderr, flush=True)
        return 2
    ssl_files = {} if tls is None else {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
    config = uvicorn.Config(runtime.app, host=settings.host, port=settings.port, log_level=args.log_level,
                            access_log=False, lifespan="on", timeout_graceful_shutdown=5, **ssl_files)
    server = _AnnouncingServer(config, scheme="http" if tls is None else "https")
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
