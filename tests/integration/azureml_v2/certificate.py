"""A self-signed certificate for the emulator's TLS listener on 127.0.0.1.

Used by the tests' conftest and by ``benchmarks/azureml_v2_requests.py``. `cryptography` (which
comes with azure-identity, through msal) is imported only when a certificate is made.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path

__all__ = ["self_signed_certificate"]


def self_signed_certificate(
    folder: Path, *, dns_names: Sequence[str] = (), days: int = 2
) -> tuple[str, str]:
    """Make a self-signed certificate for 127.0.0.1 and `dns_names`; return (cert, key) files.

    Args:
        folder: Where to write ``cert.pem`` and ``key.pem``.
        dns_names: Host names it is valid for, besides the address 127.0.0.1.
        days: How long it is valid (from an hour ago).

    Returns:
        The paths of the certificate and of its private key (PEM).
    """
    from cryptography import x509  # noqa: PLC0415 - comes with azure-identity (msal)
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    *(x509.DNSName(host) for host in dns_names),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)
