"""Watching a search: its change history (recorded by every refresh and harvest), the
history page and Atom feeds of one search or of every one."""

from pyramid.tweens import INGRESS, MAIN


def includeme(config):
    from ..searches.resources import SEARCH_PATH, SavedSearchContext

    config.add_route("query_changes", SEARCH_PATH + "/changes", factory=SavedSearchContext)
    config.add_route("query_feed", SEARCH_PATH + "/feed.atom", factory=SavedSearchContext)
    config.add_route("feed", "/feed.atom")
    # Above the response cache: its hits answer conditional GETs too.
    config.add_tween("stackq.watch.conditional.conditional_tween_factory", under=INGRESS,
                     over=("stackq.cache.tween.cache_tween_factory", MAIN))
    config.scan(".views")
