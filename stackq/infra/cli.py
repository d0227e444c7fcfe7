"""What stackq's command-line scripts share."""

import argparse
import signal
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


# A stop asked by SIGTERM (systemd, docker, a test harness) is a clean end: 0, since they
# read anything else as a failure. Ctrl-C (SIGINT) is 130, as shells expect of a command
# a person interrupted (so `stackq_harvest ... && stackq_export ...` goes no further).
STOP_EXIT = {signal.SIGTERM: 0, signal.SIGINT: 130}


class StopSignal(BaseException):
    """SIGTERM or SIGINT arrived; raised where the script was (see `raise_on_stop_signals`)."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = STOP_EXIT[signum]


def raise_on_stop_signals():
    """SIGTERM and SIGINT raise StopSignal: the script ends at once, its `finally` blocks run."""
    def handle(signum, frame):
        raise StopSignal(signum)

    for signum in STOP_EXIT:
        signal.signal(signum, handle)
