"""Watching a search: its change history (recorded by every refresh and harvest), the
history page and Atom feeds of one search or of every one."""


def includeme(config):
    pass
