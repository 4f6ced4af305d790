"""The ``mm4m`` command line."""
