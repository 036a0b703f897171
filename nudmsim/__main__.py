"""``python -m nudmsim`` == ``nudmsim``."""
from .cli.main import run

run()
