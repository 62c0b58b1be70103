from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from intake.views import status_attempts_key


@pytest.fixture
def status_ip() -> Iterator[str]:
    """A client address of its own for the status page, with its attempt counter cleared, so
    the rate limit of one test never leaks into another (the Redis cache is shared)."""
    import uuid

    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    cache.delete(status_attempts_key(ip))
    yield ip
    cache.delete(status_attempts_key(ip))
