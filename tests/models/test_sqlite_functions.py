"""The function stackq's SQLite connections add: each tag of the rows, counted."""

import sqlite3

from stackq.models import sqlite_functions


def tag_counts(*rows):
    db = sqlite3.connect(":memory:")
    sqlite_functions.register(db)
    db.execute("CREATE TABLE q (tags TEXT)")
    db.executemany("INSERT INTO q VALUES (?)", [(tags,) for tags in rows])
    # As a search reads it: each tag a row of json_each (no rows at all: NULL, no tags).
    return dict(db.execute("SELECT key, value FROM json_each((SELECT stackq_tag_counts("
                           "group_concat(tags, ' ')) FROM q))").fetchall())


def test_each_tag_is_counted_once_per_row_it_is_on():
    assert tag_counts("c++ python", "python", "c# c++ python", "") == {
        "c++": 2, "python": 3, "c#": 1}


def test_no_rows_and_rows_without_tags_count_nothing():
    assert tag_counts() == {}
    assert tag_counts(None, "") == {}


def test_tags_that_look_like_json_or_sql_come_back_as_they_are():
    assert tag_counts('a"b \\x', "'; DROP TABLE q; --") == {
        'a"b': 1, "\\x": 1, "';": 1, "DROP": 1, "TABLE": 1, "q;": 1, "--": 1}
