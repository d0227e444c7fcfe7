"""Where each process-wide part lives in the Pyramid registry: one name per part.

Code that holds a request asks it (`request.settings`, `request.redis`,
`request.api`, `request.dbsession`); code that holds only the registry (tweens,
scripts) looks the part up under these names.
"""

SETTINGS = "stackq.settings"  # the typed Settings, in registry.settings
REDIS = "stackq.redis"  # the process's Redis client
EVENTS = "stackq.events"  # the pubsub.EventListener of this process
API = "stackq.api"  # the ApiAccess every API call takes
RESPONSE_CACHE = "stackq.cache"  # the cache.tween.ResponseCache
QUICK_REQUEST = "stackq.quick_request"  # priority.QuickRequests: the server lets these in first
# In an upgraded request's environ (WSGI, not the registry): a function taking a function of
# no arguments that serves the socket, run by the server once the app has returned
# (server/handler.py offers it, notify/tween.py hands the socket to it).
SERVE_LATER = "stackq.websocket.serve_later"
NOTIFY_HUB = "stackq.notify.hub"  # the WebSocket hub
DBSESSION_FACTORY = "dbsession_factory"  # the cookiecutter's name
AFTER_COMMIT = "stackq.after_commit"  # models.changes.AfterCommit: listeners of every commit
TASKS_OPENAPI = "stackq.tasks.openapi"  # the task API's OpenAPI document
# (paths, schemas) the features add to the API's OpenAPI document (the search's)
OPENAPI_PATHS = "stackq.openapi.paths"
TASK_KINDS = "stackq.tasks.kinds"  # the kinds of task the features registered, by name
# searches.manage: what other features do when a saved search is deleted, in its transaction
SEARCH_DELETED = "stackq.searches.deleted"
SITE_LINKS = "stackq.site_links"  # templating: each site's links, built once
SIGN_IN_THROTTLE = "stackq.accounts.throttle"  # accounts: failed sign-ins, per name and address
SIGNED_OUT = "stackq.accounts.signed_out"  # accounts: the sessions signed out, on every host


def settings_of(registry):
    """The typed Settings of the app `registry` belongs to."""
    return registry.settings[SETTINGS]
