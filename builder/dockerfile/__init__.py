"""The Docker strategy's Dockerfile edits (pure)."""

from builder.dockerfile.parse import Dockerfile, FromLine, Instruction, parse, parse_from
from builder.dockerfile.rewrite import rewrite, stage_images

__all__ = [
    "Dockerfile",
    "FromLine",
    "Instruction",
    "parse",
    "parse_from",
    "rewrite",
    "stage_images",
]
