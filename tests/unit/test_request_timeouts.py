"""Every HTTP request an SDK makes inside an adapter call waits the attempt's seconds at most."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from aml_promotion import RetryPolicy
from aml_promotion.adapters import _request_timeouts
from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.adapters._request_timeouts import capped, current_timeout, within
from aml_promotion.exceptions import RegistryError, TransientRegistryError


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (None, (5.0, 5.0)),
        (120, (5.0, 5.0)),
        (2.5, (2.5, 2.5)),
        ((3, 300), (3.0, 5.0)),
        ((None, 300), (5.0, 5.0)),
        ((30, None), (5.0, 5.0)),
    ],
)
def test_a_request_timeout_is_capped_in_both_its_parts(
    timeout: object, expected: tuple[float, float]
) -> None:
    """None (no limit), one number, or (connect, read): each part is 5 s at most."""
    assert capped(timeout, 5.0) == expected


def test_urllib3s_timeout_object_is_capped_too() -> None:
    """urllib3's Timeout, as requests also accepts it: its parts are read and capped."""
    urllib3 = pytest.importorskip("urllib3")
    assert capped(urllib3.Timeout(connect=2, read=60), 5.0) == (2.0, 5.0)
    assert capped(urllib3.Timeout(), 5.0) == (5.0, 5.0)  # its "default" is no limit


def test_the_seconds_are_the_calling_calls_nested_or_the_least_in_flight_elsewhere() -> None:
    """Nested blocks: the innermost; another thread: the least of those in flight; after: None."""
    seen: list[float | None] = []
    assert current_timeout() is None
    with within(12.0):
        assert current_timeout() == 12.0
        with within(3.0):
            assert current_timeout() == 3.0
        assert current_timeout() == 12.0
        elsewhere = threading.Thread(target=lambda: seen.append(current_timeout()))
        elsewhere.start()
        elsewhere.join()
    assert seen == [12.0]
    assert current_timeout() is None


def test_the_gateway_gives_each_attempt_its_timeout(retry_waits: list[float]) -> None:
    """gateway.call: the policy's share per request; gateway.once too."""
    policy = RetryPolicy(attempts=5, timeout=60, jitter=0)
    gateway = SdkGateway(
        policy,
        quiet=contextlib.nullcontext,
        translate=lambda error, what: RegistryError(f"{what} failed: {error}"),
    )
    seen: list[float | None] = []

    def call() -> None:
        seen.append(current_timeout())
        if len(seen) == 1:
            raise TransientRegistryError("503")

    gateway.call("reading", call)
    gateway.once("reading", lambda: seen.append(current_timeout()))
    assert seen[0] == 12.0
    assert seen[1] is not None
    assert 11.0 < seen[1] <= 12.0  # what is left of the deadline, at most the share
    assert seen[2] == 12.0
    assert retry_waits == [0.5]
    assert current_timeout() is None


@pytest.fixture
def hung_server() -> Iterator[str]:
    """An HTTP address on 127.0.0.1 that accepts connections and never sends a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        listener.close()


def test_a_request_to_a_hung_server_times_out_within_the_block_and_waits_outside_it(
    hung_server: str,
) -> None:
    """A request with no timeout of its own: 0.5 s inside the block; outside, its own 1 s."""
    requests = pytest.importorskip("requests")
    raised: list[BaseException] = []

    def get() -> None:
        with within(0.5):
            try:
                requests.get(hung_server)  # no timeout of its own: the block's is the one tested
            except requests.exceptions.ReadTimeout as exc:
                raised.append(exc)

    started = time.monotonic()
    # In a thread, so that a missing timeout fails the test instead of hanging it.
    waiting = threading.Thread(target=get, daemon=True)
    waiting.start()
    waiting.join(timeout=5)
    assert not waiting.is_alive(), "the request is still waiting: it was given no timeout"
    assert len(raised) == 1
    assert time.monotonic() - started < 0.9
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(hung_server, timeout=1)
    assert time.monotonic() - started >= 0.9  # the hook changes nothing outside the block
    assert _request_timeouts._IN_FLIGHT.installed


def test_a_hung_github_id_token_endpoint_is_given_the_calls_seconds_not_its_30(
    hung_server: str,
) -> None:
    """urllib, not requests: GitHubIdToken caps its own wait; the failure may be retried."""
    from aml_promotion.adapters._azure_identity import GitHubIdToken  # noqa: PLC0415

    source = GitHubIdToken(request_url=hung_server, request_token="runner-token")  # noqa: S106
    started = time.monotonic()
    with within(0.5), pytest.raises(TransientRegistryError, match="could not be reached"):
        source()
    assert time.monotonic() - started < 0.9
