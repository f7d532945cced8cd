"""Queue clients send on a pooled ``urllib3`` transport, not through ``requests`` (issue 24, the
burst: ``requests``' layers were a third of a message delete's CPU, and the stream deletes every
message on its own request). What ``requests`` did for etl must still hold:

- an ``https`` queue service is trusted through the environment's CA bundle
  (``REQUESTS_CA_BUNDLE``), and one signed by another authority is refused with a one-line
  message naming the queue and the certificate;
- a proxy URL's credentials reach the proxy as ``Proxy-Authorization`` (the proxy itself, and
  ``NO_PROXY``, are tests/core/test_queue_proxy.py's);

each through ``etl dataset send-events``, against a stand-in queue service or proxy. Timeouts and
dropped connections are tests/cli/test_stream_outages.py's.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from pathlib import Path

import pytest
from stand_in_http import StandInHandler, serving
from stream_dataset import StreamDataset

pytestmark = pytest.mark.postgres

ACCOUNT = "tlsaccount"
KEY = base64.b64encode(b"a key the stand-in does not check").decode()
SENT = (
    "<?xml version='1.0' encoding='utf-8'?><QueueMessagesList><QueueMessage>"
    "<MessageId>m1</MessageId><InsertionTime>Mon, 07 Dec 2026 00:00:00 GMT</InsertionTime>"
    "<ExpirationTime>Mon, 14 Dec 2026 00:00:00 GMT</ExpirationTime><PopReceipt>r1</PopReceipt>"
    "<TimeNextVisible>Mon, 07 Dec 2026 00:00:00 GMT</TimeNextVisible></QueueMessage>"
    "</QueueMessagesList>"
)
"""What the queue service answers a Put Message (Azure's documented body)."""


class _QueueService(StandInHandler):
    """Creates any queue and accepts every message put into it; records each request line."""

    seen: list[str] = []

    def _serve(self) -> None:
        type(self).seen.append(f"{self.command} {self.path}")
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = SENT.encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _RecordingProxy(StandInHandler):
    """A forward proxy that records each request's URL and ``Proxy-Authorization``, and refuses
    it."""

    seen: list[tuple[str, str | None]] = []

    def _serve(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Proxy-Authorization")))
        self.send_json(407, {"error": "the stand-in proxy refuses"})


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _queue_of_account(ds: StreamDataset, account: str) -> None:
    """Point the dataset's events queue at ``account``'s queue of the same name."""
    dataset = ds.folder / "dataset.yaml"
    text = dataset.read_text()
    dataset.write_text(
        text.replace("queue: queue://devstoreaccount1/", f"queue: queue://{account}/")
    )


def test_an_https_queue_service_is_trusted_through_the_environments_ca_bundle(
    streamed: StreamDataset, tmp_path: Path
) -> None:
    ds = streamed
    blob = ds.upload("assets/a.json", id="a", n=1)
    cert, key = _certificate(tmp_path, "queue-service")
    other, _ = _certificate(tmp_path, "another-authority")
    _queue_of_account(ds, ACCOUNT)
    with serving(_QueueService, tls=(cert, key)) as service:
        created = ds.etl("profile", "create", "local", "--runner", "local",
                         "--set", f"storage.{ACCOUNT}.queue_url={service}/{ACCOUNT}",
                         "--set", f"storage.{ACCOUNT}.key={KEY}",
                         "--set", "storage_timeouts.retries=1")  # fmt: skip
        assert created.returncode == 0, created.stderr
        ds.env |= {"REQUESTS_CA_BUNDLE": str(cert), "CURL_CA_BUNDLE": str(cert)}
        trusted = ds.etl("dataset", "send-events", "-d", str(ds.folder), blob)
        put = list(_QueueService.seen)
        ds.env |= {"REQUESTS_CA_BUNDLE": str(other), "CURL_CA_BUNDLE": str(other)}
        refused = ds.etl("dataset", "send-events", "-d", str(ds.folder), blob)

    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    queue = f"/{ACCOUNT}/{ds.queue}"
    assert put == [f"PUT {queue}", f"POST {queue}/messages"], put  # created, then the event
    assert _QueueService.seen == put  # the refused one never reached it
    assert refused.returncode != 0
    message = refused.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert ds.queue in message and "certificate" in message.lower(), message


def test_a_proxy_urls_credentials_reach_the_proxy(streamed: StreamDataset) -> None:
    ds = streamed
    blob = ds.upload("assets/a.json", id="a", n=1)
    with serving(_RecordingProxy) as proxy:
        with_credentials = proxy.replace("http://", "http://etl:s3cret@")
        ds.env |= {"HTTP_PROXY": with_credentials, "http_proxy": with_credentials}
        ds.env |= {"NO_PROXY": "", "no_proxy": ""}
        refused = ds.etl("dataset", "send-events", "-d", str(ds.folder), blob)

    assert refused.returncode != 0, refused.stdout
    expected = "Basic " + base64.b64encode(b"etl:s3cret").decode()
    queued = [auth for url, auth in _RecordingProxy.seen if f"/{ds.queue}" in url]
    assert queued, _RecordingProxy.seen
    assert set(queued) == {expected}, _RecordingProxy.seen
