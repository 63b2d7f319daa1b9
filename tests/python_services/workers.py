"""A service served by two worker processes (BentoML's `workers`): each process makes its own
instance, and answers with its own process id."""
import os

import bento


@bento.service(workers=2)
class TwoWorkers:
    def __init__(self):
        self.pid = os.getpid()

    @bento.api
    def whoami(self, note: str = "") -> dict:
        return {"pid": self.pid, "parent": os.getppid(), "note": note}
