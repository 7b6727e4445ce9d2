from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("session/keep-alive/", views.KeepAliveView.as_view(), name="keep-alive"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("photos/<str:filename>", views.ProfilePhotoView.as_view(), name="profile-photo"),
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    path("sessions/others/end/", views.EndOtherSessionsView.as_view(), name="sessions-end-others"),
    path("sessions/<str:session_id>/end/", views.EndSessionView.as_view(), name="session-end"),
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
