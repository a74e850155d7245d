"""The botocore session and Rekognition client behind a command, configured like AWS CLI v1.

Credentials, profiles, region and retries resolve as botocore resolves them. openrek only adds
defaults: the endpoint (``--endpoint-url``, else ``OPENREK_ENDPOINT``, else ``AWS_ENDPOINT_URL_REKOGNITION``
/ ``AWS_ENDPOINT_URL`` / a profile's ``endpoint_url``, else http://127.0.0.1:4599), and where nothing
is configured anywhere, region ``us-east-1`` and the local server's root credentials (profile ``openrek``
of ``<data dir>/credentials``, which the server writes on first start unless given root keys; the data dir
is ``$OPENREK_DATA_DIR`` or ``~/.openrek``), else ``openrek``/``openrek`` (enough for a server started with
``--auth off``), so that a first command against a local server just works.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_ENDPOINT = "http://127.0.0.1:4599"
LOCAL_REGION = "us-east-1"
LOCAL_ACCESS_KEY = "openrek"
LOCAL_SECRET_KEY = "openrek"
LOG_FORMAT = "%(asctime)s - %(threadName)s - %(name)s - %(levelname)s - %(message)s"
DEFAULT_TIMEOUT = 60


def make_session(globals_: Any) -> Any:
    """A botocore session with the CLI's global options applied."""
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session({"ca_bundle": ("ca_bundle", "AWS_CA_BUNDLE", None, None),
                                        "output": ("output", "AWS_DEFAULT_OUTPUT", "json", None)})
    from openrek import __version__

    session.user_agent_name = "openrek"
    session.user_agent_version = __version__
    if globals_.profile:
        if globals_.profile == LOCAL_PROFILE and LOCAL_PROFILE not in botocore.session.Session().available_profiles:
            # `--profile openrek` means the local server's generated keys, wherever ~/.aws points.
            session.set_config_variable("credentials_file", str(local_credentials_file()))
        session.set_config_variable("profile", globals_.profile)
    if globals_.region:
        session.set_config_variable("region", globals_.region)
    # The CLI prints timestamps and blobs as they were sent (no datetime objects, no decoding).
    factory = session.get_component("response_parser_factory")
    timestamp_format = "wire"
    try:
        timestamp_format = session.get_scoped_config().get("cli_timestamp_format", "wire")
    except Exception:
        pass
    if timestamp_format in ("wire", "none"):
        factory.set_parser_defaults(blob_parser=_identity, timestamp_parser=_identity)
    elif timestamp_format == "iso8601":
        from botocore.utils import parse_timestamp

        factory.set_parser_defaults(blob_parser=_identity, timestamp_parser=lambda v: parse_timestamp(v).isoformat())
    else:
        raise ValueError(
            f'Unknown cli_timestamp_format value: {timestamp_format}, valid values are "none", "wire" or "iso8601"'
        )
    config: dict[str, Any] = {
        "read_timeout": globals_.read_timeout,
        "connect_timeout": globals_.connect_timeout,
    }
    if not globals_.sign_request:
        from botocore import UNSIGNED

        config["signature_version"] = UNSIGNED
    session.set_default_client_config(Config(**config))
    return session


LOCAL_PROFILE = "openrek"  # the profile the server writes into <data dir>/credentials


def local_credentials_file() -> Any:
    """`<data dir>/credentials` of the local server (`$OPENREK_DATA_DIR`, else ~/.openrek)."""
    from pathlib import Path

    return Path(os.environ.get("OPENREK_DATA_DIR") or Path.home() / ".openrek").expanduser() / "credentials"


def local_credentials() -> tuple[str, str]:
    """The local server's root keys from `<data dir>/credentials` (profile openrek), else openrek/openrek."""
    import configparser

    parser = configparser.ConfigParser()
    try:
        parser.read(local_credentials_file())
        section = parser[LOCAL_PROFILE]
        return section["aws_access_key_id"], section["aws_secret_access_key"]
    except (KeyError, configparser.Error, OSError):
        return LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY


def _identity(x: Any) -> Any:
    return x


def resolve_endpoint(session: Any, explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("OPENREK_ENDPOINT"):
        return os.environ["OPENREK_ENDPOINT"]
    for var in ("AWS_ENDPOINT_URL_REKOGNITION", "AWS_ENDPOINT_URL"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        configured = session.get_scoped_config().get("endpoint_url")
    except Exception:
        configured = None
    return configured or DEFAULT_ENDPOINT


def _fast_loader(session: Any) -> Any | None:
    """A botocore loader that reuses the Rekognition model the CLI already parsed.

    botocore's loader lists every service on disk before loading one model and parses the
    model again; for the built-in Rekognition files neither is needed. Other services, and any
    setup with extra data paths (``AWS_DATA_PATH``, ``~/.aws/models``), use the stock loader.
    """
    from botocore.loaders import create_loader

    from openrek.cli.model import API_VERSION, SERVICE_NAME, load_service_model

    loader = create_loader(session.get_config_variable("data_path"))
    for path in loader.search_paths:
        if not loader.is_builtin_path(path) and os.path.isdir(os.path.join(path, SERVICE_NAME)):
            return None
    builtin = [p for p in loader.search_paths if loader.is_builtin_path(p)]
    if not builtin:
        return None
    stock = loader.load_service_model
    base = os.path.join(builtin[0], SERVICE_NAME, API_VERSION)

    def fast(service_name: str, type_name: str, api_version: str | None = None) -> Any:
        if service_name == SERVICE_NAME and api_version in (None, API_VERSION):
            if type_name == "service-2":
                return load_service_model().data
            data = loader.file_loader.load_file(os.path.join(base, type_name))
            if data is not None:
                return data
        return stock(service_name, type_name, api_version)

    loader.load_service_model = fast
    _use_trimmed_endpoints(loader, builtin[0])
    return loader


_KEEP_ENDPOINTS = ("rekognition", "sts", "sso", "sso-oidc", "s3")


def _endpoints_cache_path(builtin: str) -> str | None:
    source = os.path.join(builtin, "endpoints.json")
    try:
        st = os.stat(source)
    except OSError:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "openrek", f"botocore-endpoints-{st.st_size}-{st.st_mtime_ns}.json")


def _use_trimmed_endpoints(loader: Any, builtin: str) -> None:
    """Serve botocore's 1.2 MB ``endpoints.json`` from a cached copy holding only the services this
    CLI can create clients for (Rekognition, and STS/SSO for credentials); saves ~15 ms a command.

    The copy is written on first use under ``$XDG_CACHE_HOME/openrek`` (keyed by the file's size and
    mtime) and silently skipped when it cannot be read or written.
    """
    import json

    cache = _endpoints_cache_path(builtin)
    if cache is None:
        return
    stock = loader.load_data_with_path

    def load_data_with_path(name: str) -> Any:
        if name != "endpoints":
            return stock(name)
        try:
            with open(cache, encoding="utf-8") as f:
                return json.load(f), os.path.join(builtin, "endpoints")
        except (OSError, ValueError):
            pass
        data, path = stock(name)
        if loader.is_builtin_path(path):
            try:
                trimmed = dict(data)
                trimmed["partitions"] = [
                    {**p, "services": {k: v for k, v in p.get("services", {}).items() if k in _KEEP_ENDPOINTS}}
                    for p in data.get("partitions", [])
                ]
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                tmp = f"{cache}.{os.getpid()}.tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    json.dump(trimmed, f)
                os.replace(tmp, cache)
            except OSError:
                pass
        return data, path

    loader.load_data_with_path = load_data_with_path


def create_client(session: Any, globals_: Any) -> Any:
    """The Rekognition client for this command, with openrek's local defaults filled in."""
    region = globals_.region or session.get_config_variable("region") or LOCAL_REGION
    kwargs: dict[str, Any] = {
        "region_name": region,
        "endpoint_url": resolve_endpoint(session, globals_.endpoint_url),
        "verify": globals_.verify_ssl,
    }
    loader = _fast_loader(session)
    if loader is not None:
        session.register_component("data_loader", loader)
    if globals_.sign_request and session.get_credentials() is None:
        kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = local_credentials()
    return session.create_client("rekognition", **kwargs)
