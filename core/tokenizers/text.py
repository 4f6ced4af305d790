"""The shared 4M text tokenizer: WordPiece with the 4284-token special layout of spec §1.5.

Loads the official ``text_tokenizer_4m_wordpiece_30k.json`` (by path or hub id), checks that its special tokens
sit at the ids the rest of mm4m assumes, and trains new tokenizers with the same layout from a text corpus.
Built on the ``tokenizers`` library; no torch import.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tokenizers import AddedToken, decoders, models, normalizers, pre_tokenizers, trainers
from tokenizers import Tokenizer as WordPieceModel

from mm4m.core import special_tokens
from mm4m.core.atomic import atomic_path
from mm4m.core.interfaces import Tokenizer

OFFICIAL_FILENAME = "text_tokenizer_4m_wordpiece_30k.json"
"""File name of the released 4M text tokenizer (also the file looked up in a hub repository)."""
TOKENIZER_PATH_ENV = "MM4M_TEXT_TOKENIZER"
"""Environment variable naming the default tokenizer file or hub id for ``text_tokenizer_factory()``."""

NUM_VALUE_SLOTS = 4
"""``v0=`` … ``v3=``: the value tokens used by the structured serialisers."""
NUM_VALUES = 1000
"""Each value slot holds the integers 0 … 999."""

COCO_CLASS_NAMES: tuple[str, ...] = (
    "airplane", "apple", "backpack", "banana", "baseball bat", "baseball glove", "bear", "bed", "bench",
    "bicycle", "bird", "boat", "book", "bottle", "bowl", "broccoli", "bus", "cake", "car", "carrot", "cat",
    "cell phone", "chair", "clock", "couch", "cow", "cup", "dining table", "dog", "donut", "elephant",
    "fire hydrant", "fork", "frisbee", "giraffe", "hair drier", "handbag", "horse", "hot dog", "keyboard", "kite",
    "knife", "laptop", "microwave", "motorcycle", "mouse", "orange", "oven", "parking meter", "person", "pizza",
    "potted plant", "refrigerator", "remote", "sandwich", "scissors", "sheep", "sink", "skateboard", "skis",
    "snowboard", "spoon", "sports ball", "stop sign", "suitcase", "surfboard", "teddy bear", "tennis racket",
    "tie", "toaster", "toilet", "toothbrush", "traffic light", "train", "truck", "tv", "umbrella", "vase",
    "wine glass", "zebra",
)
"""The 80 COCO detection classes in the vocabulary's (alphabetical) order; each is a single token."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SENTINEL = re.compile(r"^\[S_(\d+)\]$")


class TextTokenizerError(ValueError):
    """A text tokenizer could not be found, loaded, trained or does not have the 4M layout."""


def sentinel_token(k: int) -> str:
    """The text of sentinel ``[S_k]``."""
    return f"[S_{k}]"


def value_token(slot: int, value: int) -> str:
    """The text of value token ``v{slot}={value}``."""
    return f"v{slot}={value}"


def special_tokens_layout() -> list[AddedToken]:
    """The 4284 added tokens of spec §1.5, in id order, with the official matching flags.

    Control tokens match anywhere; sentinels and ``v*=`` tokens match whole words on raw text; class names match
    whole words on normalised (lower-cased) text. All are marked special, as in the released file.
    """
    control = ["[PAD]", "[UNK]", "[SOS]", "[EOS]"]
    raw_words = [sentinel_token(k) for k in range(special_tokens.NUM_SENTINELS)]
    raw_words += [value_token(s, v) for s in range(NUM_VALUE_SLOTS) for v in range(NUM_VALUES)]
    layout = [AddedToken(t, single_word=False, normalized=False, special=True) for t in control]
    layout += [AddedToken(t, single_word=True, normalized=False, special=True) for t in raw_words]
    layout += [AddedToken(t, single_word=True, normalized=True, special=True) for t in COCO_CLASS_NAMES]
    return layout


class SpecialTokenIds(BaseModel):
    """Ids of the special tokens of a loaded tokenizer, read back from its vocabulary (spec §1.5)."""

    model_config = ConfigDict(frozen=True)

    pad: int
    unk: int
    sos: int
    eos: int
    sentinels: dict[int, int] = Field(description="Sentinel index k → id of [S_k], found by the '[S_' prefix.")
    value_offsets: tuple[int, ...] = Field(description="Id of v{slot}=0 for each slot; v{slot}=n is offset + n.")
    class_names: dict[str, int] = Field(description="COCO class name → its single-token id.")

    def sentinel(self, k: int) -> int:
        """Id of ``[S_k]``."""
        if k not in self.sentinels:
            raise TextTokenizerError(f"sentinel index must be one of 0..{len(self.sentinels) - 1}, got {k}")
        return self.sentinels[k]

    def value(self, slot: int, value: int) -> int:
        """Id of ``v{slot}={value}``."""
        if not (0 <= slot < len(self.value_offsets) and 0 <= value < NUM_VALUES):
            raise TextTokenizerError(
                f"value token must have slot in 0..{len(self.value_offsets) - 1} and value in 0..{NUM_VALUES - 1}, "
                f"got v{slot}={value}")
        return self.value_offsets[slot] + value


def _expected_ids() -> dict[str, int]:
    """Token → id required by the rest of mm4m (``core/special_tokens.py`` and the §1.5 table)."""
    return {token.content: index for index, token in enumerate(special_tokens_layout())}


def _check_layout(model: WordPieceModel, origin: str) -> SpecialTokenIds:
    """Read the special ids of ``model`` and fail, naming the token, if any differs from the 4M layout."""
    for content, expected in _expected_ids().items():
        found = model.token_to_id(content)
        if found != expected:
            raise TextTokenizerError(
                f"{origin}: token {content!r} must have id {expected} (4M layout, spec §1.5), found {found}")
    sentinels = {}
    for content, token_id in model.get_vocab(with_added_tokens=True).items():
        match = _SENTINEL.match(content)
        if match:
            sentinels[int(match.group(1))] = token_id
    return SpecialTokenIds(
        pad=special_tokens.PAD_ID, unk=special_tokens.UNK_ID, sos=special_tokens.SOS_ID, eos=special_tokens.EOS_ID,
        sentinels=dict(sorted(sentinels.items())),
        value_offsets=tuple(model.token_to_id(value_token(s, 0)) for s in range(NUM_VALUE_SLOTS)),
        class_names={name: model.token_to_id(name) for name in COCO_CLASS_NAMES},
    )


class TextTokenizer(Tokenizer):
    """The shared 4M text tokenizer: strings ↔ WordPiece ids, without added SOS/EOS (spec §1.5)."""

    def __init__(self, model: WordPieceModel, *, modality: str = "caption", origin: str = "<in-memory>"):
        self.special = _check_layout(model, origin)
        self.modality = modality
        self.vocab_size = model.get_vocab_size(with_added_tokens=True)
        self.origin = origin
        self._model = model

    def tokenize(self, data: str) -> list[int]:
        """Ids of ``data``; like the reference, no [EOS] is appended (masking does that)."""
        if not isinstance(data, str):
            raise TextTokenizerError(f"text tokenizer input must be a str, got {type(data).__name__}")
        return self._model.encode(data, add_special_tokens=False).ids

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each string of ``texts`` (parallel inside the ``tokenizers`` library)."""
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TextTokenizerError(f"text tokenizer input {index} must be a str, got {type(text).__name__}")
        return [encoding.ids for encoding in self._model.encode_batch(list(texts), add_special_tokens=False)]

    def detokenize(self, tokens: Any) -> str:
        """Text of ``tokens`` (a list of ids or a tensor), cut at the first [EOS] and without [PAD].

        Sentinels, value tokens and class names are kept: they are content for the structured parsers.
        """
        ids = [int(t) for t in (tokens.tolist() if hasattr(tokens, "tolist") else tokens)]
        if self.special.eos in ids:
            ids = ids[: ids.index(self.special.eos)]
        bad = [t for t in ids if not 0 <= t < self.vocab_size]
        if bad:
            raise TextTokenizerError(f"token ids must be in [0, {self.vocab_size}), found {bad[:5]}")
        return self._model.decode([t for t in ids if t != self.special.pad], skip_special_tokens=False)

    def token_to_id(self, token: str) -> int | None:
        """Id of a single vocabulary entry, or None when absent."""
        return self._model.token_to_id(token)

    def id_to_token(self, token_id: int) -> str | None:
        """Vocabulary entry of an id, or None when out of range."""
        return self._model.id_to_token(token_id)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the tokenizer JSON atomically (temporary file, then rename) and return its path."""
        with atomic_path(path) as temporary:
            self._model.save(str(temporary), pretty=True)
        return Path(path)

    def __repr__(self) -> str:
        return f"TextTokenizer(vocab_size={self.vocab_size}, origin={self.origin!r})"


def resolve_tokenizer_file(source: str | os.PathLike[str], *, filename: str = OFFICIAL_FILENAME) -> Path:
    """Local path of a tokenizer given as a file, a directory holding ``filename``, or a hub id ``org/repo``.

    A hub id is fetched with ``huggingface_hub`` (only when it is installed); local paths win over hub ids.
    """
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        candidate = path / filename
        if not candidate.is_file():
            raise TextTokenizerError(f"tokenizer directory {path} must contain {filename}, but it does not")
        return candidate
    text = str(source)
    if not _HUB_ID.match(text):
        raise TextTokenizerError(f"text tokenizer must be an existing file, a directory or a hub id 'org/repo', "
                                 f"got {text!r} (no such file)")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise TextTokenizerError(
            f"{text!r} is not a local file, and loading it as a hub id needs huggingface_hub, which is not "
            f"installed (pip install huggingface_hub)") from exc
    try:
        return Path(hf_hub_download(repo_id=text, filename=filename))
    except Exception as exc:  # noqa: BLE001 - hub errors are many; report them as one clear message
        raise TextTokenizerError(f"could not fetch {filename} from hub repository {text!r}: {exc}") from exc


def load_text_tokenizer(source: str | os.PathLike[str], *, filename: str = OFFICIAL_FILENAME,
                        modality: str = "caption") -> TextTokenizer:
    """Load a 4M-layout WordPiece tokenizer from a file, a directory or a hub id (see ``resolve_tokenizer_file``)."""
    path = resolve_tokenizer_file(source, filename=filename)
    try:
        model = WordPieceModel.from_file(str(path))
    except Exception as exc:  # noqa: BLE001 - the library raises bare Exceptions on malformed JSON
        raise TextTokenizerError(f"{path} is not a valid `tokenizers` JSON file: {exc}") from exc
    return TextTokenizer(model, modality=modality, origin=str(path))


def text_tokenizer_factory(path: str | os.PathLike[str] | None = None) -> TextTokenizer:
    """Registry factory for tokenizer id ``wordpiece-4m-30k``: ``path`` or else ``$MM4M_TEXT_TOKENIZER``."""
    source = path if path is not None else os.environ.get(TOKENIZER_PATH_ENV)
    if not source:
        raise TextTokenizerError(
            f"no text tokenizer given: pass a path or hub id, or set {TOKENIZER_PATH_ENV} to the location of "
            f"{OFFICIAL_FILENAME}")
    return load_text_tokenizer(source)


def _blank_wordpiece(vocab: dict[str, int] | None = None) -> WordPieceModel:
    """A WordPiece pipeline with the official normaliser, pre-tokenizer and decoder (spec §1.5); untrained
    unless ``vocab`` is given."""
    model = WordPieceModel(models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##",
                                            max_input_chars_per_word=100))
    model.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                  lowercase=True)
    model.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    model.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    return model


def train_text_tokenizer(corpus: Iterable[str], *, vocab_size: int = 30000, min_frequency: int = 2,
                         modality: str = "caption") -> TextTokenizer:
    """Train a WordPiece tokenizer on ``corpus`` (an iterable of texts, read into memory once) with the 4M
    special-token layout first; the same corpus gives the same vocabulary in every process.

    `tokenizers`' trainer numbers the ``##`` continuation characters in the order it walks a hash map of the
    words, which varies between processes, and breaks ties between equally frequent merges by those numbers.
    Handing it the continuation alphabet, sorted, right after the layout fixes both.
    """
    layout = special_tokens_layout()
    if vocab_size <= len(layout):
        raise TextTokenizerError(f"vocab_size must exceed the {len(layout)} special tokens, got {vocab_size}")
    if min_frequency < 1:
        raise TextTokenizerError(f"min_frequency must be at least 1, got {min_frequency}")
    counted = _CountingIterator(corpus)
    texts = list(counted)
    if counted.count == 0:
        raise TextTokenizerError("training corpus must contain at least one non-empty text, found none")
    model = _blank_wordpiece()
    continuations = [f"##{char}" for char in _continuation_alphabet(model, texts)]
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=layout + continuations, continuing_subword_prefix="##",
                                        show_progress=False)
    model.train_from_iterator(texts, trainer=trainer)
    trained = _blank_wordpiece(model.get_vocab())  # the continuations become ordinary vocabulary again
    trained.add_special_tokens(layout)
    return TextTokenizer(trained, modality=modality, origin="<trained>")


def _continuation_alphabet(model: WordPieceModel, texts: list[str]) -> list[str]:
    """Sorted characters that follow another one inside a pre-tokenized word of ``texts``."""
    chars: set[str] = set()
    for text in texts:
        for word, _ in model.pre_tokenizer.pre_tokenize_str(model.normalizer.normalize_str(text)):
            chars.update(word[1:])
    return sorted(chars)


class _CountingIterator:
    """Passes texts through to the trainer while counting the non-empty ones and rejecting non-strings."""

    def __init__(self, texts: Iterable[str]):
        self._texts = iter(texts)
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for index, text in enumerate(self._texts):
            if not isinstance(text, str):
                raise TextTokenizerError(f"training corpus item {index} must be a str, got {type(text).__name__}")
            self.count += bool(text.strip())
            yield text
