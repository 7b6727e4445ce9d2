from __future__ import annotations

from django.urls import path

from . import two_factor_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", two_factor_views.LoginVerifyView.as_view(), name="login-verify"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("session/keep-alive/", views.KeepAliveView.as_view(), name="keep-alive"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path(
        "email/confirm/<str:token>/",
        views.EmailChangeConfirmView.as_view(),
        name="email-confirm",
    ),
    path("photos/<str:filename>", views.ProfilePhotoView.as_view(), name="profile-photo"),
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    path("sessions/others/end/", views.EndOtherSessionsView.as_view(), name="sessions-end-others"),
    path("sessions/<str:session_id>/end/", views.EndSessionView.as_view(), name="session-end"),
    path("two-factor/", two_factor_views.TwoFactorView.as_view(), name="two-factor"),
    path(
        "two-factor/authenticator/add/",
        two_factor_views.AuthenticatorAddView.as_view(),
        name="authenticator-add",
    ),
    path(
        "two-factor/authenticator/qr.svg",
        two_factor_views.AuthenticatorQRCodeView.as_view(),
        name="authenticator-qr",
    ),
    path(
        "two-factor/authenticators/<int:pk>/rename/",
        two_factor_views.FactorRenameView.as_view(),
        name="authenticator-rename",
    ),
    path(
        "two-factor/authenticators/<int:pk>/remove/",
        two_factor_views.FactorRemoveView.as_view(),
        name="authenticator-remove",
    ),
    path(
        "two-factor/recovery-codes/",
        two_factor_views.RecoveryCodesGenerateView.as_view(),
        name="recovery-codes",
    ),
    # Passkeys: the JSON views django-otp-webauthn's scripts call (ours, by subclassing its
    # own; its urls module is not included), the scripts' translations, and the list's forms.
    path(
        "two-factor/passkeys/register/begin/",
        two_factor_views.PasskeyRegisterBeginView.as_view(),
        name="passkey-register-begin",
    ),
    path(
        "two-factor/passkeys/register/complete/",
        two_factor_views.PasskeyRegisterCompleteView.as_view(),
        name="passkey-register-complete",
    ),
    path(
        "login/verify/passkey/begin/",
        two_factor_views.PasskeyLoginBeginView.as_view(),
        name="passkey-login-begin",
    ),
    path(
        "login/verify/passkey/complete/",
        two_factor_views.PasskeyLoginCompleteView.as_view(),
        name="passkey-login-complete",
    ),
    path(
        "two-factor/passkeys/jsi18n.js",
        two_factor_views.PasskeyScriptCatalogView.as_view(),
        name="passkey-jsi18n",
    ),
    path(
        "two-factor/passkeys/<int:pk>/rename/",
        two_factor_views.PasskeyRenameView.as_view(),
        name="passkey-rename",
    ),
    path(
        "two-factor/passkeys/<int:pk>/remove/",
        two_factor_views.PasskeyRemoveView.as_view(),
        name="passkey-remove",
    ),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("confirm-password/", views.ConfirmPasswordView.as_view(), name="confirm-password"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
