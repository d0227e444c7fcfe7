"""The product's logic, between the views (HTTP) and the models and API client."""

# The database failing (unreachable, connection lost, its schema older than the code or
# never set up: `schema_behind`): views answer it with a 503 page.
from ..models import DatabaseError, schema_behind  # noqa: F401
