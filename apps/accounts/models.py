from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .managers import UserManager
from .validators import EARLIEST_DATE_OF_BIRTH, DateOfBirthValidator


def profile_photo_path(instance: User, filename: str) -> str:
    """A random name: the uploader's file name never reaches the disk or a URL."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"avatars/{uuid.uuid4().hex}.{extension}"


class User(AbstractUser):
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
