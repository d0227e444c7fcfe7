"""What `stackq_harvest` shows while it works: a tqdm bar on a terminal, plain lines otherwise."""

import sys
import threading

from tqdm import tqdm

# Without a terminal, a wait is mentioned once it has lasted this long, then as often.
PLAIN_WAIT_EVERY = 5.0


def calls_text(calls, kind=""):
    """`1 call`, `4 calls`, `4 API calls`."""
    return f"{calls} {kind}call{'' if calls == 1 else 's'}"


def quota_text(quota):
    return "quota unknown" if quota is None else f"quota {quota} left"


def page_line(done):
    """`page 4 stored (4/10): 100 questions, 12 new, 3 updated; 5 calls, quota 295 left`."""
    return (f"page {done.page} stored ({done.done}/{done.planned}): {done.questions} questions,"
            f" {done.new} new, {done.updated} updated; {calls_text(done.calls)},"
            f" {quota_text(done.quota_remaining)}")


class Progress:
    """Counts what the harvest reported; the two displays below show it."""

    def __init__(self):
        self.last = None  # the last PageDone
        self.first_page = None
        self.questions = 0
        self._lock = threading.Lock()  # waits are reported from another thread

    def page(self, done):
        with self._lock:
            self.last = done
            self.first_page = self.first_page or done.page
            self.questions += done.questions
            self.show_page(done)

    def wait(self, seconds):
        with self._lock:
            self.show_wait(seconds)

    def stored_text(self):
        """`this run stored pages 1-4` / `this run stored no page`."""
        if self.last is None:
            return "this run stored no page"
        if self.first_page == self.last.page:
            return f"this run stored page {self.last.page}"
        return f"this run stored pages {self.first_page}-{self.last.page}"


class LineProgress(Progress):
    """One plain line per page on stdout: for logs, cron and pipes."""

    def show_page(self, done):
        print(page_line(done), flush=True)

    def show_wait(self, seconds):
        if seconds % PLAIN_WAIT_EVERY < 0.25:
            print(f"waiting for an API slot ({seconds:.0f} s)", flush=True)

    def say(self, text):
        print(text, file=sys.stderr, flush=True)

    def close(self):
        pass


class BarProgress(Progress):
    """A tqdm bar on stderr: pages done of planned, questions, calls, quota, waiting."""

    def __init__(self, title):
        super().__init__()
        self.bar = tqdm(total=None, desc=title, unit="page", file=sys.stderr,
                        dynamic_ncols=True, bar_format="{desc}: {n_fmt}/{total_fmt} pages "
                        "|{bar}| {elapsed}<{remaining}{postfix}")
        self.postfix = "starting"
        self.bar.set_postfix_str(self.postfix)

    def show_page(self, done):
        self.bar.total = done.planned
        self.postfix = (f"{self.questions} questions, {calls_text(done.calls)}, "
                        f"{quota_text(done.quota_remaining)}")
        self.bar.set_postfix_str(self.postfix, refresh=False)
        self.bar.update(done.done - self.bar.n)

    def show_wait(self, seconds):
        self.bar.set_postfix_str(f"{self.postfix}, waiting for a slot {seconds:.0f} s")

    def say(self, text):
        self.bar.write(text, file=sys.stderr)

    def close(self):
        self.bar.close()


def progress_for(title, stream=None):
    """The bar on a terminal (stderr), plain lines anywhere else."""
    stream = stream or sys.stderr
    return BarProgress(title) if stream.isatty() else LineProgress()
