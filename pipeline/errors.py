"""Typed errors: what stops a file or a run. Data problems are findings, not errors."""


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose; its text is Chinese and shown to the user."""


class InputError(PipelineError):
    """A file cannot be read at all (corrupt, encrypted, empty, not a register).

    Attributes:
        code: the finding code (see pipeline.findings.CODES) that tells the clerk what to do.
        note: detail for the message template.
    """

    def __init__(self, code: str, note: str = "", value: str = ""):
        super().__init__(f"{code}: {note or value}")
        self.code = code
        self.note = note
        self.value = value


class ConfigError(PipelineError):
    """config.toml is missing, malformed or holds a bad value."""


class RenderError(PipelineError):
    """A report could not be written."""
