"""The question page's repeated pieces as Python filters: an owner's link and a licence.

Each answer names its owner twice (its line, the attribution) and its licence once; as
Jinja2 macros they were most of the page's time (a macro call costs a frame, a context and
a Markup join), as filters they cost a format string.
"""

from markupsafe import Markup, escape

LICENCES = {"CC BY-SA 2.5": "https://creativecommons.org/licenses/by-sa/2.5/",
            "CC BY-SA 3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
            "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/"}


def licence_url(name):
    return LICENCES.get(name or "")


UNKNOWN_OWNER = Markup('<span class="owner">an unknown user</span>')


def owner_link(owner):
    """The owner's name linked to their profile (a name alone without one). Escaped and
    joined by hand: Markup.format goes through string.Formatter, five times slower."""
    if owner is None:
        return UNKNOWN_OWNER
    if owner.link:
        return Markup(f'<a class="owner" href="{escape(owner.link)}">'
                      f'{escape(owner.display_name)}</a>')
    return Markup(f'<span class="owner">{escape(owner.display_name)}</span>')


def licence(name):
    """The licence's name linked to its deed (CC BY-SA when the API did not say)."""
    href = licence_url(name)
    if href:
        return Markup(f'<a rel="license" href="{href}">{escape(name)}</a>')
    return escape(name or "CC BY-SA")
