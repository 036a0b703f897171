"""``python -m nudmsim`` == ``nudmsim``.

A Ctrl-C while the command line module is still being imported (before :func:`nudmsim.cli.main.main` installs
its handler) ends the run the same way as one after: one line, exit 130, nothing written."""
import os
import sys

try:
    from .cli.main import run
except KeyboardInterrupt:
    sys.stderr.write("nudmsim: interrupted (no output written)\n")
    sys.stderr.flush()
    os._exit(130)

run()
