"""Downloads of a saved search's stored results: /queries/{id}/export.{csv,xlsx,json}."""

import tempfile
import unicodedata
from urllib.parse import quote

from pyramid.response import FileIter, Response
from pyramid.view import view_config

from ..searches.params import parse_results_params
from .report import FORMATS, export_filename, write_export


def attachment(filename):
    """Content-Disposition for any file name: an ASCII one, and the UTF-8 one (RFC 6266)."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    plain = plain.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


@view_config(route_name="query_export", request_method="GET")
def export_results(request):
    """The report in the page's sort and order, written to a temporary file, then sent.

    Written whole before the answer starts: the database session ends with the request,
    and a failure is still an error page rather than a truncated file. The file is
    unlinked already, so it goes away once sent (or if the client hangs up).
    """
    search = request.context.search  # first: a missing search is a 404 whatever is asked
    fmt = request.matchdict["format"]
    _, _, sort, order = parse_results_params(request, request.settings)
    body = tempfile.TemporaryFile()
    try:
        write_export(request.dbsession, search, fmt, body, sort, order)
        size = body.tell()
        body.seek(0)
    except BaseException:
        body.close()
        raise
    response = Response(app_iter=FileIter(body), content_length=size)
    response.headers["Content-Type"] = FORMATS[fmt].content_type
    response.headers["Content-Disposition"] = attachment(export_filename(search, fmt, sort,
                                                                         order))
    # One visitor's download: never kept by the response cache or a shared proxy.
    response.headers["Cache-Control"] = "no-store"
    return response
