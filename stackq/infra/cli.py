"""What stackq's command-line scripts share."""

import argparse
import sys

# A usage or settings error, for every script (argparse alone would exit 2).
USAGE = 1


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")
