"""Who a request comes from, behind a proxy or not.

Behind a reverse proxy every request's peer is the proxy: its `X-Forwarded-*` headers are
believed when the peer is in `stackq.trusted_proxies`, never otherwise (anyone can send them).
"""


def from_trusted_proxy(request):
    return request.remote_addr in request.settings.trusted_proxies


def client_address(request):
    """The visitor's address: the connection's peer, or behind trusted proxies the nearest
    address in X-Forwarded-For that is not one of them (the ones further left are the
    client's to write)."""
    address = request.remote_addr or "unknown"
    trusted = request.settings.trusted_proxies
    if address not in trusted:
        return address
    for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
        address = hop.strip() or address
        if address not in trusted:
            break
    return address
