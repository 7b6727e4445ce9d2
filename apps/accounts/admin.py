from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .forms import AdminUserChangeForm, AdminUserCreationForm
from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "last_login",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "date_joined"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "email", "date_of_birth", "profile_photo")},
        ),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (
            _("Personal info"),
            {"fields": ("email", "first_name", "last_name", "date_of_birth", "profile_photo")},
        ),
    )


# qsessions registers an admin for sessions that shows each one's key and decoded data: the
# key is the session itself, readable there by anyone with the admin. Sessions are ended on
# the user's sessions page, or by deactivating the user. (Imported here so that it has
# registered before this unregisters it; autodiscover does not import it a second time.)
import qsessions.admin  # noqa: E402, F401
from qsessions.models import Session  # noqa: E402

admin.site.unregister(Session)

# django-otp's admin for authenticators shows each one's secret key and its QR code: anyone
# with the admin could copy another user's second factor. Ours shows which factors a user
# has and lets an administrator remove one (a user who lost both phone and recovery codes),
# never the key; factors are added by their owner on the two-factor page.
import django_otp.plugins.otp_totp.admin  # noqa: E402, F401
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from .models import RecoveryCodeDevice  # noqa: E402

admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "name"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = ["user", "name", "confirmed", "created_at", "last_used_at"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(RecoveryCodeDevice)
class RecoveryCodesAdmin(AuthenticatorAdmin):
    """Only that a user has codes, and when they were last used: never the digests."""

    list_display = ["user", "created_at", "last_used_at"]
    fields = ["user", "created_at", "last_used_at"]
    readonly_fields = ["user", "created_at", "last_used_at"]


# Passkeys: django-otp-webauthn registers no admin; this one lists them like the
# authenticators above (no key material, no credential ids), so that an administrator can
# remove a lost one. They are added by their owner in the browser, never here.
from .passkeys import WebAuthnCredential  # noqa: E402


@admin.register(WebAuthnCredential)
class PasskeyAdmin(AuthenticatorAdmin):
    pass
