"""Storage clients (queues and blobs) read the environment's proxy once per client (issue 24,
item 9: ``requests`` read it, and ``~/.netrc``, on every request: a third of a message delete's
CPU, a sixth of a small blob read's). The proxy must still be obeyed: with ``HTTP_PROXY`` set,
``etl dataset send-events`` sends its queue requests and ``etl profile check -d`` its blob requests
through the proxy (a stand-in that refuses them), and with ``NO_PROXY`` naming the host, directly.
"""

from __future__ import annotations

import pytest
from stand_in_http import StandInHandler, serving
from stream_dataset import StreamDataset

pytestmark = pytest.mark.postgres


class _RefusingProxy(StandInHandler):
    """A forward proxy that records each request line and refuses it (403)."""

    seen: list[str] = []

    def _serve(self) -> None:
        type(self).seen.append(f"{self.command} {self.path}")
        self.send_json(403, {"error": "the stand-in proxy refuses"})


def test_queue_requests_go_through_the_environments_proxy_unless_no_proxy(
    streamed: StreamDataset, azurite_queue_port: int
) -> None:
    ds = streamed
    blob = ds.upload("assets/a.json", id="a", n=1)
    queue_service = f"127.0.0.1:{azurite_queue_port}"
    with serving(_RefusingProxy) as proxy:
        ds.env |= {"HTTP_PROXY": proxy, "http_proxy": proxy}
        ds.env |= {"NO_PROXY": "", "no_proxy": ""}
        refused = ds.etl("dataset", "send-events", "-d", str(ds.folder), blob)
        ds.env |= {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        direct = ds.etl("dataset", "send-events", "-d", str(ds.folder), blob)

    assert refused.returncode != 0, refused.stdout
    queue_url = f"http://{queue_service}/devstoreaccount1/{ds.queue}"
    assert any(line.split(" ", 1)[1].startswith(queue_url) for line in _RefusingProxy.seen), (
        _RefusingProxy.seen
    )
    assert direct.returncode == 0, direct.stderr
    assert len(ds.peek()) == 1


def test_blob_requests_go_through_the_environments_proxy_unless_no_proxy(
    streamed: StreamDataset,
) -> None:
    ds = streamed
    with serving(_RefusingProxy) as proxy:
        ds.env |= {"HTTP_PROXY": proxy, "http_proxy": proxy}
        ds.env |= {"NO_PROXY": "", "no_proxy": ""}
        refused = ds.etl("profile", "check", "-d", str(ds.folder))
        ds.env |= {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        direct = ds.etl("profile", "check", "-d", str(ds.folder))

    assert refused.returncode != 0, refused.stdout
    assert any(f"/devstoreaccount1/{ds.container}" in line for line in _RefusingProxy.seen), (
        _RefusingProxy.seen
    )
    assert direct.returncode == 0, direct.stdout + direct.stderr
