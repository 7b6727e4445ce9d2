from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from .managers import UserManager
from .recovery_codes import recovery_code_digest
from .validators import EARLIEST_DATE_OF_BIRTH, DateOfBirthValidator


def profile_photo_path(instance: User, filename: str) -> str:
    """A random name: the uploader's file name never reaches the disk or a URL."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"avatars/{uuid.uuid4().hex}.{extension}"


# The reverse managers of django-otp's (untyped) device models cannot be resolved by the stubs.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    email = models.EmailField(_("email address"))
    date_of_birth = models.DateField(
        _("date of birth"), null=True, blank=True, validators=[DateOfBirthValidator()]
    )
    profile_photo = models.ImageField(_("profile photo"), upload_to=profile_photo_path, blank=True)
    email_notifications = models.BooleanField(
        _("e-mail me about reviews"),
        default=True,
        help_text=_(
            "Books submitted for your review, and the outcome of the reviews you asked for."
        ),
    )

    objects: ClassVar[UserManager] = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("A user with that email address already exists."),
            ),
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message=_("A user with that username already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__isnull=True)
                | models.Q(date_of_birth__gte=EARLIEST_DATE_OF_BIRTH),
                name="accounts_user_date_of_birth_plausible",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def initials(self) -> str:
        """One or two letters for the avatar placeholder."""
        parts = [self.first_name, self.last_name] if self.first_name else [self.username]
        return "".join(part[0] for part in parts if part).upper()[:2]

    @property
    def profile_photo_url(self) -> str:
        if not self.profile_photo:
            return ""
        return reverse("accounts:profile-photo", args=[self.profile_photo.name.rsplit("/", 1)[-1]])


class RecoveryCodeDevice(ThrottlingMixin, TimestampMixin, Device):
    """A user's single-use recovery codes, for when the authenticator is lost: a django-otp
    device, so the login's second step and sudo mode verify it like the others.

    Only each code's keyed digest is stored (``RecoveryCode.digest``): the codes are shown
    once, when made, and a copy of the database does not reveal them. (django-otp's own
    static device keeps them in plain text; see docs/decisions/two-factor-libraries.md.)
    """

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user"], name="accounts_one_recovery_device_per_user")
        ]

    def verify_token(self, token: str) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        digest = recovery_code_digest(token)
        with transaction.atomic():
            # A conditional update: of two requests racing with the same code, one wins.
            used = self.codes.filter(digest=digest, used_at__isnull=True).update(
                used_at=timezone.now()
            )
            if used:
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
                return True
            self.throttle_increment(commit=True)
            return False

    def get_throttle_factor(self) -> int:
        return 1  # 1, 2, 4, 8 … seconds after successive wrong codes, as for TOTP

    def codes_left(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "digest"], name="accounts_recovery_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code {self.pk} ({'used' if self.used_at else 'unused'})"
