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


def owner_link(owner):
    """The owner's name linked to their profile (a name alone without one)."""
    if owner is None:
        return Markup('<span class="owner">an unknown user</span>')
    if owner.link:
        return Markup('<a class="owner" href="{}">{}</a>').format(owner.link, owner.display_name)
    return Markup('<span class="owner">{}</span>').format(owner.display_name)


def licence(name):
    """The licence's name linked to its deed (CC BY-SA when the API did not say)."""
    href = licence_url(name)
    if href:
        return Markup('<a rel="license" href="{}">{}</a>').format(href, name)
    return escape(name or "CC BY-SA")
