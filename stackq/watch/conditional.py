"""Conditional GETs: an answer with an ETag or Last-Modified answers `304 Not Modified` to a
request that already holds it (WebOb's conditional response), rendered or from the cache.

A tween above the response cache: a hit is rebuilt from stored headers and bytes, so the
view's own `conditional_response` does not survive it.
"""


def conditional_tween_factory(handler, registry):
    def conditional_tween(request):
        response = handler(request)
        if response.status_code == 200 and (response.etag or response.last_modified):
            response.conditional_response = True
        return response

    return conditional_tween
