"""What stackq's command-line scripts share."""

import argparse
import sys

# A usage or settings error, for every script (argparse alone would exit 2).
USAGE = 1


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def database_failed(error, config_uri):
    """What a script says when the database fails: the error's first line, and the likely
    cause (no schema yet)."""
    reason = str(error).splitlines()[0]
    return f"the database failed ({reason}); is the schema there? (initialize_db {config_uri})"
