"""The three report forms the portal ships (layouts of our design), built by ``build.py`` and loaded with their
bindings by migration ``reports.0003_ship_forms``."""
