import sys

from mimamori.bench.cli import main

sys.exit(main())
