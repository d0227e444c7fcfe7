"""Harvests: many upstream pages of one search into its saved search, one commit a page;
from `stackq_harvest` or as a `harvest` task."""


def includeme(config):
    from .task import HARVEST

    config.add_task_kind(HARVEST)
