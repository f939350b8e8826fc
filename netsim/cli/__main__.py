"""``python -m netsim.cli``: the console script."""

import sys

from netsim.cli.entry import console

sys.exit(console())
