"""`python -m stackq.server.run development.ini [http_port=N]`: the web app and the refresher.

What `make run` starts: `pserve` and `refresh_queries` on the same ini, as two processes
(the refresher is no part of a web process, so several web processes never refresh twice).
Ctrl-C or SIGTERM stops both; if either one exits, the other is stopped too.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

STOP_TIMEOUT = 10.0


def commands(config_uri, server_args):
    here = Path(sys.executable).parent
    return {
        "web": [str(here / "pserve"), config_uri, *server_args],
        "refresher": [sys.executable, "-m", "stackq.refresh.command", config_uri],
    }


def stop_all(procs):
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv=sys.argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__.splitlines()[0].strip("`"), file=sys.stderr)
        return 2
    stopping = []
    signal.signal(signal.SIGINT, lambda *_: stopping.append(signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(signal.SIGTERM))
    # Process groups of their own: Ctrl-C in the terminal reaches only us, and each child
    # gets exactly one SIGTERM (a second one would cut the refresher's search short).
    procs = {name: subprocess.Popen(cmd, process_group=0)
             for name, cmd in commands(argv[1], argv[2:]).items()}
    try:
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"stackq: the {name} exited with {proc.returncode}; stopping",
                          file=sys.stderr)
                    stopping.append(name)
                    break
            time.sleep(0.2)
    finally:
        stop_all(procs)
    if stopping[0] in procs:  # a child ended on its own: that is a failure
        return procs[stopping[0]].returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
