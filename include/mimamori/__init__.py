"""mimamori (こども見守りデータ基盤): link what a town's departments know about children.

One package for the DAGs, the command-line tools and the tests.
"""

__version__ = "0.1.0"
