"""Settings given as strings (environment, CLI) parsed into enums with one clear error message."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Option(StrEnum):
    """A string enum whose :meth:`parse` names the setting and the allowed values in its error."""

    @classmethod
    def label(cls) -> str:
        return cls.__name__

    @classmethod
    def parse(cls, value: str | Self) -> Self:
        try:
            return cls(value)
        except ValueError:
            allowed = "/".join(m.value for m in cls)
            raise ValueError(f"{cls.label()} must be one of {allowed}, got {value!r}") from None
