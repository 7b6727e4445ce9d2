from __future__ import annotations

from django.urls import path

from . import views

app_name = "circulation"

urlpatterns = [
    path("books/<int:pk>/borrow/", views.BorrowView.as_view(), name="borrow"),
    path("books/<int:pk>/hold/", views.PlaceHoldView.as_view(), name="hold"),
    path("holds/<int:pk>/cancel/", views.CancelHoldView.as_view(), name="hold-cancel"),
    path("loans/", views.LoansView.as_view(), name="loans"),
    path("loans/<int:pk>/return/", views.ReturnView.as_view(), name="loan-return"),
    path("loans/<int:pk>/renew/", views.RenewView.as_view(), name="loan-renew"),
    path("circulation/", views.DeskView.as_view(), name="desk"),
    path("inventory/<int:pk>/", views.InventoryView.as_view(), name="inventory"),
    path("inventory/<int:pk>/copies/", views.AddCopiesView.as_view(), name="copies-add"),
    path(
        "inventory/copies/<int:pk>/withdraw/",
        views.WithdrawCopyView.as_view(),
        name="copy-withdraw",
    ),
]
