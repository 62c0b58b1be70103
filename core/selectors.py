"""Visibility in the organisation. Case selectors build on these (petitions.selectors)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Center, Department, User


def centers_visible_to(user: User) -> QuerySet[Center]:
    """A center sees itself and every center below it (read-only below); superusers see all."""
    if user.is_superuser:
        return Center.objects.all()
    if not user.is_authenticated or user.center_id is None:
        return Center.objects.none()
    from .orgcache import user_center

    center = user_center(user)
    assert center is not None
    return Center.objects.filter(path__startswith=center.path)


def visible_center_ids(user: User) -> list[int]:
    """The ids of ``centers_visible_to(user)`` (not for superusers: they see every center), from
    the organisation cache (core.orgcache), without a query."""
    from .orgcache import subtree_ids, user_center

    if not user.is_authenticated or user.center_id is None:
        return []
    center = user_center(user)
    return subtree_ids(center) if center is not None else []


def centers_writable_by(user: User) -> QuerySet[Center]:
    """Staff act only on their own center's cases; subordinate centers are read-only to them."""
    if user.is_superuser:
        return Center.objects.all()
    if not user.is_authenticated or user.center_id is None:
        return Center.objects.none()
    return Center.objects.filter(pk=user.center_id)


def departments_of_center(center: Center) -> QuerySet[Department]:
    return Department.objects.filter(center=center, is_active=True).order_by("id")
