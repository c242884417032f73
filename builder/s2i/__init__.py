"""Source-to-image: turn (builder image, source, strategy) into a Dockerfile."""

from builder.s2i.environment import EnvironmentFile, parse_environment
from builder.s2i.render import BuilderImage, S2IInputs, S2IPlan, quote, render
from builder.s2i.scripts import KNOWN_SCRIPTS, ScriptLocation, ScriptOrigin

__all__ = [
    "KNOWN_SCRIPTS",
    "BuilderImage",
    "EnvironmentFile",
    "S2IInputs",
    "S2IPlan",
    "ScriptLocation",
    "ScriptOrigin",
    "parse_environment",
    "quote",
    "render",
]
