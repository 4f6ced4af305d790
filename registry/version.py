"""The plugin API version: bumped on its own schedule, independently of mm4m's package version."""

PLUGIN_API_VERSION = "1.0"
"""A plugin declares the API it was built for in its manifest; a different major is refused."""

MANIFEST_FILENAME = "mm4m-plugin.toml"
"""The static manifest every plugin ships inside its top-level package."""

ENTRY_POINT_GROUP = "mm4m.plugins"
"""Entry-point group through which installed distributions announce their plugin module."""
