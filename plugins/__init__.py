"""First-party generator plugins of genobench.

Each module is registered through an entry point in the ``genobench`` group of this project's
``pyproject.toml``, exactly as a third party's plugin is: nothing in the core imports them.
"""
