"""`python -m stackq.testing.emulator --port 8765`: the emulator as a server of its own."""

import argparse
import signal
import sys
import threading

from .emulator import Emulator


def main(argv=None):
    """Serve until interrupted or terminated, after printing the base URL."""
    parser = argparse.ArgumentParser(prog="python -m stackq.testing.emulator",
                                     description="An offline Stack Exchange API v2.3")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    emulator = Emulator(args.host, args.port).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so `finally` stops the server cleanly
    print(emulator.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()

