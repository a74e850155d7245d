"""TLS for `openrek server`: checking a certificate/key pair, and a self-signed pair kept in the data dir.

`check_pair` turns every problem a person can fix (a missing or unreadable file, something that is not
PEM, an encrypted key, a key that belongs to another certificate) into a one-line `TlsError`, so the
server can refuse before it binds. `ensure_self_signed` creates `<data-dir>/tls/cert.pem` and `key.pem`
(key mode 0600) once and reuses them until they expire or no longer cover the address being served.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SELF_SIGNED = "self-signed"
VALIDITY = dt.timedelta(days=365)
# A certificate this close to its end is replaced rather than reused.
RENEW_BEFORE = dt.timedelta(days=1)
_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


class TlsError(Exception):
    """A TLS setting that cannot be used; the message is one line a person can act on."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    self_signed: bool = False


def check_pair(cert_path: Path, key_path: Path) -> x509.Certificate:
    """The certificate at `cert_path` if `key_path` holds its (unencrypted) private key; else `TlsError`."""
    cert_pem = _read(cert_path, "certificate")
    key_pem = _read(key_path, "key")
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise TlsError(f"TLS certificate {cert_path} is not a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise TlsError(f"TLS key {key_path} is encrypted; give an unencrypted PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsError(f"TLS key {key_path} is not a PEM private key") from None
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        cert_public = cert.public_key().public_bytes(*raw)
    except (ValueError, UnsupportedAlgorithm):
        raise TlsError(f"TLS certificate {cert_path} has a key type openrek cannot serve with") from None
    if key.public_key().public_bytes(*raw) != cert_public:
        raise TlsError(f"TLS key {key_path} does not match the certificate {cert_path}")
    try:  # what the server will do with them: catches anything OpenSSL refuses that the above let through
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert_path), str(key_path))
    except ssl.SSLError as e:
        raise TlsError(f"TLS certificate {cert_path} and key {key_path} cannot be used: {e.reason or e}") from None
    return cert


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsError(f"TLS {what} {path} does not exist") from None
    except IsADirectoryError:
        raise TlsError(f"TLS {what} {path} is a directory, not a file") from None
    except OSError as e:
        raise TlsError(f"TLS {what} {path} cannot be read: {e.strerror or e}") from None


def wanted_names(host: str) -> tuple[set[str], set[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """The DNS names and IP addresses a certificate for a server bound to `host` should cover."""
    dns = {"localhost"}
    ips: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = {ipaddress.ip_address("127.0.0.1")}
    if host in _WILDCARD_HOSTS:
        dns.add(socket.gethostname())  # bound to every address: clients will likely use the machine's name
        return dns, ips
    try:
        ips.add(ipaddress.ip_address(host))
    except ValueError:
        dns.add(host.lower())
    return dns, ips


def covers(cert: x509.Certificate, host: str, now: dt.datetime | None = None) -> bool:
    """Whether `cert` is valid now (and for a while) and names everything `wanted_names(host)` asks for."""
    now = now or dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc - RENEW_BEFORE:
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    dns, ips = wanted_names(host)
    have_dns = {name.lower() for name in san.get_values_for_type(x509.DNSName)}
    return dns <= have_dns and ips <= set(san.get_values_for_type(x509.IPAddress))


def ensure_self_signed(data_dir: Path, host: str, now: dt.datetime | None = None) -> TlsFiles:
    """`<data-dir>/tls/cert.pem` and `key.pem`: reused while they match and cover `host`, else made anew."""
    directory = data_dir / "tls"
    files = TlsFiles(cert=directory / "cert.pem", key=directory / "key.pem", self_signed=True)
    if files.cert.exists() and files.key.exists():
        try:
            if covers(check_pair(files.cert, files.key), host, now):
                return files
        except TlsError:
            pass  # damaged or mismatched: ours to replace
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        cert_pem, key_pem = _generate(host, now or dt.datetime.now(dt.UTC))
        _write(files.key, key_pem, 0o600)
        _write(files.cert, cert_pem, 0o644)
    except OSError as e:
        raise TlsError(f"cannot write the self-signed TLS certificate in {directory}: {e.strerror or e}") from None
    return files


def _generate(host: str, now: dt.datetime) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    dns, ips = wanted_names(host)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "openrek"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "openrek self-signed")])
    public = key.public_key()
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in sorted(dns)]
    sans += [x509.IPAddress(ip) for ip in sorted(ips, key=str)]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate a little clock skew
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        # Its own trust anchor (what --ca-bundle / verify= point at), so a CA, as `openssl req -x509` makes.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write(path: Path, data: bytes, mode: int) -> None:
    """Writes `data` to `path` atomically, the file having `mode` from the start (a key is never readable)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)  # the umask may have narrowed it; never widens a key beyond 0600
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def resolve(data_dir: Path, host: str, mode: str, cert: Path | None, key: Path | None) -> TlsFiles | None:
    """The files to serve HTTPS with, or None for plain HTTP; a `TlsError` for settings that do not fit."""
    if mode not in ("", "off", SELF_SIGNED):
        raise TlsError(f"unknown TLS mode {mode!r}; use 'self-signed' or 'off', or give --tls-cert and --tls-key")
    if mode == "off":
        return None
    if mode == SELF_SIGNED:
        if cert or key:
            raise TlsError("give either --tls self-signed or --tls-cert/--tls-key, not both")
        return ensure_self_signed(data_dir, host)
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing = "--tls-cert (OPENREK_TLS_CERT)" if cert is None else "--tls-key (OPENREK_TLS_KEY)"
        raise TlsError(f"TLS needs both a certificate and a key: {missing} is missing")
    cert, key = cert.expanduser(), key.expanduser()
    check_pair(cert, key)
    return TlsFiles(cert=cert, key=key)
