"""The one error family of the Nuke side. Messages name the node, the file and the fix."""


class PluginError(Exception):
    """Root of every error the plugin raises on purpose; ``exit_code`` is for ``nuke -t``."""

    exit_code = 1


class EngineNotFound(PluginError):
    """The engine's Python is not configured or does not exist (run install/install.py)."""

    exit_code = 5


class EngineFailed(PluginError):
    """The engine ran and exited non-zero; ``exit_code`` is the engine's own code."""

    def __init__(self, message, exit_code):
        PluginError.__init__(self, message)
        self.exit_code = exit_code
