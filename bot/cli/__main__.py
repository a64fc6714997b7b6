"""python -m bot.cli: the same as the leopard-watch command."""

import sys

from bot.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
