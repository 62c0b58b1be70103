from __future__ import annotations

from django import template

from reports.indicators import format_rate

register = template.Library()


@register.filter
def rate(value: float | None) -> str:
    """A rate as a percentage, or "—" when it has no denominator."""
    return format_rate(value)


@register.filter
def ratio(pair: tuple[int, int]) -> str:
    """(numerator, denominator) as "n/d"."""
    return f"{pair[0]}/{pair[1]}"
