"""The product's logic, between the views (HTTP) and the models and API client."""

# The database failing (unreachable, connection lost): views answer it with a 503 page.
from ..models import DatabaseError  # noqa: F401
