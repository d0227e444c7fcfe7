"""The archive: every stored question readable offline, with its body and its answers."""

# At most 12 digits: every such id fits the database's integers (a longer one is no page).
QUESTION_PATH = r"/questions/{site:[a-z0-9.\-]{1,60}}/{question_id:\d{1,12}}"


def includeme(config):
    config.add_route("question", QUESTION_PATH)
    config.add_template_filter("owner_link", "stackq.archive.render:owner_link")
    config.add_template_filter("licence", "stackq.archive.render:licence")
    config.scan(".views")
    config.include(".search")  # /search, /api/search
