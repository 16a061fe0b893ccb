"""The webhook SSRF guard: which URLs a webhook may target."""

from __future__ import annotations

import pytest

from adapters.webhooks.guard import ForbiddenTarget, Guard


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "http:///no-host",
        "http://user:secret@example.com/",
        "http://example.com:notaport/",
    ],
)
def test_only_plain_http_urls_with_a_host_pass(url: str) -> None:
    with pytest.raises(ForbiddenTarget):
        Guard().check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1/tenants",
        "http://localhost:8000/admin",
        "http://127.0.0.2:8000/",
        "http://0.0.0.0:8000/",
        "http://[::1]:8000/",
    ],
)
def test_never_this_api_itself(url: str) -> None:
    with pytest.raises(ForbiddenTarget, match="Kontor's own API"):
        Guard("127.0.0.1", 8000).check_target(url)


def test_other_local_ports_pass_unless_private_targets_are_blocked() -> None:
    Guard("127.0.0.1", 8000).check_target("http://127.0.0.1:9000/hook")
    with pytest.raises(ForbiddenTarget, match="not a public address"):
        Guard("127.0.0.1", 8000, block_private=True).check_target("http://127.0.0.1:9000/hook")


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3/", "http://169.254.169.254/latest/meta-data", "http://[fd00::1]/"]
)
def test_private_and_metadata_addresses_are_refused_when_blocked(url: str) -> None:
    with pytest.raises(ForbiddenTarget, match="not a public address"):
        Guard(block_private=True).check_target(url)


def test_an_unresolvable_host_passes_registration_but_not_delivery() -> None:
    Guard().check_target("http://no-such-host.invalid/", must_resolve=False)
    with pytest.raises(ForbiddenTarget, match="cannot resolve"):
        Guard().check_target("http://no-such-host.invalid/")
