"""A question item as the API sends it, with the fields a test cares about changed."""


def question_item(**overrides):
    """A minimal default-filter question item; `overrides` replace or add fields."""
    item = {
        "tags": ["python"],
        "is_answered": False,
        "view_count": 3,
        "answer_count": 0,
        "score": 1,
        "last_activity_date": 1700000100,
        "creation_date": 1700000000,
        "question_id": 7,
        "link": "https://stackoverflow.com/questions/7/x",
        "title": "t",
    }
    item.update(overrides)
    return item
