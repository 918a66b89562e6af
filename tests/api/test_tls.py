"""HTTPS: logpond serves TLS with a certificate and key given on the command line."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..conftest import ROOT_AUTH, start_server


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "logpond test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    """With --tls-cert and --tls-key the API answers over HTTPS, verified against the cert."""
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    server = start_server(
        tmp_path / "data", "--tls-cert", str(cert), "--tls-key", str(key), scheme="https", verify=trust
    )
    try:
        with httpx.Client(base_url=server.url, verify=trust, headers={"authorization": ROOT_AUTH}) as http:
            response = http.post(
                "/api/v1/ingest",
                params={"group": "/tls"},
                content=b"over tls",
                headers={"content-type": "text/plain"},
            )
            assert response.json() == {"accepted": 1, "rejected": []}
        plain = httpx.Client(base_url=server.url.replace("https", "http"))
        try:
            plain.get("/healthz")
            raise AssertionError("plain HTTP should not be answered on the TLS port")
        except httpx.HTTPError:
            pass
        finally:
            plain.close()
    finally:
        server.terminate()
