"""Conditional GETs: an answer with an ETag or Last-Modified answers `304 Not Modified` to a
request that already holds it (WebOb's conditional response), rendered or from the cache.

A tween above the response cache: a hit is rebuilt from stored headers and bytes, so the
view's own `conditional_response` does not survive it.
"""

# What WebOb's conditional response reads of a request; without any, it would send the
# answer as is, after parsing and checking all of them (16 us of a cached feed's 260).
CONDITIONS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE")


def conditional_tween_factory(handler, registry):
    def conditional_tween(request):
        response = handler(request)
        if (response.status_code == 200 and any(name in request.environ for name in CONDITIONS)
                and (response.etag or response.last_modified)):
            response.conditional_response = True
        return response

    return conditional_tween
