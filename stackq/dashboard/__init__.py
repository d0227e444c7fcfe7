"""The pages that sum everything up: `/` (every saved search, the refresher's last cycle and
plan) and `/status` (the API mirrors, the quota, the caches, the next cycle)."""


def includeme(config):
    config.add_route("home", "/")
    config.add_route("status", "/status")
    config.scan(".home")
    config.scan(".status")
