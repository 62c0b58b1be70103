"""Outreach admin: each part's module (admin_<part>.py) registers its models."""

from outreach import (
    admin_aid,  # noqa: F401
    admin_messages,  # noqa: F401
)
