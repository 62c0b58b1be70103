"""Organisation: centers in a province → city → county hierarchy, their departments, and staff."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .roles import CENTER_ROLES, Role

region_code_validator = RegexValidator(r"^\d{6}$", _("A region code is six digits (GB/T 2260)."))


class CenterLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")


_LEVEL_DEPTH = {CenterLevel.PROVINCE: 0, CenterLevel.CITY: 1, CenterLevel.COUNTY: 2}


class Center(models.Model):
    """A joint reception center. ``path`` is a materialised path ("/1/4/9/") so that
    "this center and every center below it" is one indexed prefix query."""

    name = models.CharField(_("name"), max_length=100)
    region_code = models.CharField(
        _("region code"), max_length=6, unique=True, validators=[region_code_validator]
    )
    level = models.CharField(_("level"), max_length=10, choices=CenterLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent center"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, default="")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("center")
        verbose_name_plural = _("centers")
        ordering = ["path"]
        indexes = [
            # centers_visible_to(): WHERE path LIKE '/1/4/%'
            models.Index(
                fields=["path"], name="center_path_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.parent is None and self.level != CenterLevel.PROVINCE:
            raise ValidationError({"parent": _("Only a province center has no parent.")})
        if self.parent is not None and (
            _LEVEL_DEPTH[CenterLevel(self.level)]
            != _LEVEL_DEPTH[CenterLevel(self.parent.level)] + 1
        ):
            raise ValidationError({"level": _("A center sits one level below its parent.")})

    def save(self, *args: object, **kwargs: object) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)  # type: ignore[arg-type]
            path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
            if path != self.path:
                self.path = path
                Center.objects.filter(pk=self.pk).update(path=path)

    def subtree(self) -> models.QuerySet[Center]:
        return Center.objects.filter(path__startswith=self.path)


class DepartmentKind(models.TextChoices):
    POLICE = "police", _("Public security (police)")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    COURT = "court", _("Court")
    JUSTICE = "justice", _("Justice bureau")
    OTHER = "other", _("Other")


class Department(models.Model):
    center = models.ForeignKey(
        Center, verbose_name=_("center"), on_delete=models.PROTECT, related_name="departments"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["center_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["center", "name"], name="department_unique_name_per_center"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.center.name} · {self.name}"


class User(AbstractUser):
    """Staff. Belongs to one center and optionally one department of it; holds one or more roles."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    center = models.ForeignKey(
        Center,
        verbose_name=_("center"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.department_id and self.department.center_id != self.center_id:
            raise ValidationError(
                {"department": _("The department must belong to the user's center.")}
            )

    @cached_property
    def role_codes(self) -> frozenset[str]:
        """Read once per request (the user object is loaded per request, never kept across them:
        a revoked role takes effect on the next request), in a statement written out once
        rather than built by the ORM on every page (issue 10)."""
        if not self.pk:
            return frozenset()
        with connections[self._state.db or DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(
                f"SELECT role FROM {UserRole._meta.db_table} WHERE user_id = %s",  # noqa: S608
                [self.pk],
            )
            return frozenset(row[0] for row in cursor.fetchall())

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes.intersection(roles))

    @property
    def works_center_wide(self) -> bool:
        return bool(self.role_codes & CENTER_ROLES)

    def set_roles(self, roles: Iterable[str]) -> None:
        wanted = set(roles)
        self.roles.exclude(role__in=wanted).delete()
        existing = set(self.roles.values_list("role", flat=True))
        UserRole.objects.bulk_create([UserRole(user=self, role=r) for r in wanted - existing])
        self.__dict__.pop("role_codes", None)


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="userrole_unique")]

    def __str__(self) -> str:
        return self.get_role_display()


class PiiAccessLog(models.Model):
    """Every reveal of a full ID or phone number (PIPL Arts 28, 34)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    petitioner = models.ForeignKey(
        "petitions.Petitioner", on_delete=models.CASCADE, related_name="+"
    )
    # The case through which the user saw the person (a reveal needs one they may see).
    case = models.ForeignKey(
        "petitions.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        indexes = [
            # audit screen: who looked at this person's data, newest first
            models.Index(fields=["petitioner", "-at"], name="piilog_petitioner_at_idx"),
        ]


class TokenActivity(models.Model):
    """When an API token was last used, so that it can expire after an idle time like a session
    (core.authentication). Written at most once a minute per token."""

    token = models.OneToOneField(
        "authtoken.Token", primary_key=True, on_delete=models.CASCADE, related_name="activity"
    )
    last_used_at = models.DateTimeField()

    class Meta:
        verbose_name = _("API token activity")
        verbose_name_plural = _("API token activity")

    def __str__(self) -> str:
        # never the key itself: it is the credential
        return f"{self.last_used_at:%Y-%m-%d %H:%M}"
