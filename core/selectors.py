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
    return Center.objects.filter(path__startswith=user.center.path)


def centers_writable_by(user: User) -> QuerySet[Center]:
    """Staff act only on their own center's cases; subordinate centers are read-only to them."""
    if user.is_superuser:
        return Center.objects.all()
    if not user.is_authenticated or user.center_id is None:
        return Center.objects.none()
    return Center.objects.filter(pk=user.center_id)


def departments_of_center(center: Center) -> QuerySet[Department]:
    return Department.objects.filter(center=center, is_active=True).order_by("id")
