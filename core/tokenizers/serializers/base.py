"""The contract every structured → text serialiser follows, and the error they raise."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from pydantic import BaseModel

Record = TypeVar("Record", bound=BaseModel)


class SerializationError(ValueError):
    """Structured data could not be written as 4M text, or 4M text could not be parsed back."""


class TextSerializer(ABC, Generic[Record]):
    """Writes one structured modality as 4M text (spec §1.6) and parses such text back into its record."""

    #: Modality key whose data this serialiser writes, e.g. ``det``.
    modality: str
    #: The pydantic record type that ``chunks`` accepts and ``parse`` returns.
    record_type: type[Record]

    @abstractmethod
    def chunks(self, record: Record, rng: random.Random | None = None) -> list[str]:
        """The text as the units span masking acts on (one chunk, except one per item for metadata).

        ``rng`` drives the random orderings of the reference; None keeps the record's own order.
        """

    @abstractmethod
    def parse(self, text: str) -> Record:
        """The record that ``text`` describes (values are the centres of their quantisation bins)."""

    def serialize(self, record: Record, rng: random.Random | None = None) -> str:
        """The whole text: the chunks joined by single spaces."""
        return " ".join(self.chunks(record, rng))

    def validate(self, record: Record | object) -> Record:
        """``record`` as ``record_type`` (dicts are validated), or a clear error naming the expected type."""
        if isinstance(record, self.record_type):
            return record
        if isinstance(record, dict):
            return self.record_type.model_validate(record)
        raise SerializationError(f"{self.modality} serialiser needs a {self.record_type.__name__} (or a dict), "
                                 f"got {type(record).__name__}")
