import sys

from mimamori.sources.cli import main

sys.exit(main())
