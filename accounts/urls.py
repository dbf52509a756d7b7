"""Login, second factor and security log URLs."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.PasswordLoginView.as_view(), name="login"),
    path("two-factor/enrol/", views.enrol, name="enrol"),
    path("two-factor/verify/", views.verify, name="verify"),
    path("two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path("logout/", views.logout_view, name="logout"),
    path("logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("security-log/", views.security_log, name="security_log"),
    path("security-log/unlock/", views.unlock, name="unlock"),
]
