"""What settings.py's parsers share (the error, `checked`), and its switches and secrets."""


class SettingsError(ValueError):
    """A setting has a value stackq cannot use; the message names key and value."""

    def __init__(self, key, value, expected):
        super().__init__(f"setting {key} = {value!r}: {expected}")
        self.key = key


def checked(expected, convert):
    """A parser of `convert(stripped text)`, which is None where the text is not a value."""
    def parse(key, value):
        result = convert(str(value).strip())
        if result is None:
            raise SettingsError(key, value, expected)
        return result

    return parse


FLAGS = {"true": True, "yes": True, "on": True, "1": True,
         "false": False, "no": False, "off": False, "0": False}


def flag():
    """`true` or `false` (also yes/no, on/off, 1/0)."""
    return checked("true or false", lambda text: FLAGS.get(text.lower()))


# A session secret shorter than this could be guessed offline from one signed cookie.
MIN_SECRET = 32


def secret():
    """Empty (none), or at least MIN_SECRET characters."""
    return checked(f"empty, or a random string of at least {MIN_SECRET} characters",
                   lambda text: text if not text or len(text) >= MIN_SECRET else None)
