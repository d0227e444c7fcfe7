"""Who may change things: users, sign-in, API tokens, the security policy, `stackq_user`.

Off by default (`stackq.auth.enabled = false`, development.ini): nothing here is wired and
every page works as it always has. On (production.ini): every request with an unsafe method
needs a signed-in user or an API token, and with `stackq.auth.read = login` so does reading.
"""

from pyramid.tweens import INGRESS

from ..infra.registry import SETTINGS
from ..infra.settings import NO_SECRET
from ..web.headers import TWEENS_BELOW
from .policy import READ, AccountsPolicy, changes_need_a_user, find_identity
from .sessions import session_factory
from .views import DeniedPermission


def includeme(config):
    settings = config.get_settings()[SETTINGS]
    if not settings.auth_enabled:
        return
    if not settings.session_secret:
        raise SystemExit(NO_SECRET)  # one line, exit 1, as main() does for a bad setting
    config.set_session_factory(session_factory(settings.session_secret))
    config.set_security_policy(AccountsPolicy(read_needs_login=settings.auth_read == "login"))
    config.set_default_permission(READ)
    config.add_request_method(lambda request: find_identity(request, request.dbsession),
                              "account", reify=True)
    config.add_view_deriver(changes_need_a_user, under=INGRESS, over="secured_view")
    config.add_view_predicate("denied_permission", DeniedPermission)
    config.add_tween("stackq.accounts.slot.account_tween_factory",
                     under="stackq.web.csrf.same_site_tween_factory",
                     over=[*TWEENS_BELOW, "stackq.notify.tween.websocket_tween_factory"])
    config.include(".views")
    config.scan(".views")
