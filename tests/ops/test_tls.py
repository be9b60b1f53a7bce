"""HTTPS served by trackd itself; the mlflow client talks to it with a self-signed certificate."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ops.conftest import trackd_process


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
            ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# The client's own warning about verify=False is the point of this test.
@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
def test_https_with_self_signed_certificate(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    with trackd_process(tmp_path, "--backend-store-uri", f"sqlite:///{tmp_path / 'm.db'}",
                        "--artifacts-destination", str(tmp_path / "artifacts"),
                        "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
                        https=True) as server:
        assert server.url.startswith("https://")
        client = MlflowClient(server.url)
        with pytest.raises(MlflowException):  # an unknown CA is refused by default
            client.search_experiments()
        monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
        exp = client.create_experiment("over-tls")
        run = client.create_run(exp)
        client.log_metric(run.info.run_id, "m", 3.0)
        assert client.get_run(run.info.run_id).data.metrics == {"m": 3.0}
        mlflow.set_tracking_uri(None)


def test_certfile_needs_keyfile(tmp_path: Path) -> None:
    import subprocess

    from support.server import executable

    done = subprocess.run([executable("trackd"), "server", "--ssl-certfile", "x.pem"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode != 0 and "--ssl-keyfile" in done.stderr
