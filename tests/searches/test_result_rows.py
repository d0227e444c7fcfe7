"""The results table's rows, written in Python, are the HTML autoescaped Jinja wrote for them."""

from datetime import datetime

import pytest
from jinja2 import Environment
from markupsafe import Markup

from stackq.searches.result_rows import result_rows
from stackq.searches.results import ResultRow
from stackq.web.templating import format_datetime, format_number

# The rows as the template wrote them before `result_rows`, cell by cell under autoescape.
TEMPLATE_ROWS = """{% for position, question_id, title, url, closed_reason, score, answer_count, accepted, view_count, created, active, owner_name, owner_link, tags in questions %}
    <tr data-question-id="{{ question_id }}">
      <td>{{ position }}</td>
      <td><a class="question" href="{{ stored }}{{ question_id }}">{{ title }}</a> <a class="original" href="{{ url }}" title="on its site">↗</a>{% if closed_reason %} <span class="closed">[{{ closed_reason }}]</span>{% endif %}</td>
      <td class="num">{{ score }}</td>
      <td class="num{% if accepted %} accepted{% endif %}">{{ answer_count }}</td>
      <td class="num">{{ view_count | number }}</td>
      <td>{{ created | datetime }}</td>
      <td>{{ active | datetime }}</td>
      <td>{% for tag in tags %}<span class="tag">{{ tag }}</span> {% endfor %}</td>
      <td>{% if owner_name %}{% if owner_link %}<a href="{{ owner_link }}">{{ owner_name }}</a>{% else %}{{ owner_name }}{% endif %}{% else %}—{% endif %}</td>
    </tr>
  {% endfor %}"""  # noqa: E501


def autoescaped(questions):
    environment = Environment(autoescape=True)
    environment.filters.update(number=format_number, datetime=format_datetime)
    return environment.from_string(TEMPLATE_ROWS).render(questions=questions, stored=STORED)


STORED = "/questions/stackoverflow/"
HOSTILE = "<script>alert('x')</script> & \"quoted\""
ROWS = [
    ResultRow(1, 11, "How do I <b>bold</b> & keep 'quotes'?",
              "https://stackoverflow.com/questions/11/a?b=1&c=\"2\"", None, 5, 2, True, 1234567,
              datetime(2024, 5, 1, 13, 45, 59), datetime(2026, 11, 30, 0, 0), "Zoë \"Z\" O'Neil",
              "https://stackoverflow.com/users/1?x=<y>", ("c++", "a&b", "<tag>")),
    ResultRow(2, 12, HOSTILE, "https://stackoverflow.com/q/12", HOSTILE, -3, 0, False, 0,
              datetime(999, 1, 1, 0, 0), None, HOSTILE, None, ()),
    ResultRow(3, 13, "plain", "https://stackoverflow.com/q/13", "Duplicate", 0, 1, False, None,
              None, datetime(2026, 1, 2, 3, 4), None, None, ("python",)),
]


@pytest.mark.parametrize("rows", [ROWS, ROWS[1:2], []], ids=["three", "hostile", "none"])
def test_rows_are_what_the_template_wrote(rows):
    written = result_rows(rows, STORED)
    assert isinstance(written, Markup)
    assert str(written) == autoescaped(rows)


def test_no_markup_from_the_data_survives():
    written = str(result_rows(ROWS[1:2]))
    assert "<script>" not in written
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34;" in written
