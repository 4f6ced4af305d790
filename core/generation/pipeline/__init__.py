"""The Python API behind ``mm4m generate``: one sample's inputs tokenized by their modalities, a plan run, and
the targets decoded (text detokenized, grids decoded when their tokenizer is given) and saved as PNG / JSON / text.

```python
model = load_model("fourm.safetensors")
result = generate(model, {"rgb@224": pixels, "caption": "a red car [S_1]"}, ["tok_depth@224", "caption"],
                  tokenizers={"caption": "text_tokenizer_4m_wordpiece_30k.json"}, seed=0)
result.outputs["caption"].text
result.save("out/")
```

Modules: `inputs` (command-line values → raw data), `token_ids` (ids files), `tokenizers` (`TokenizerSet`),
`entries` (raw data → sample entries), `outputs` (decoding and saving), `run` (`generate`), `errors`.
"""

from __future__ import annotations

from mm4m.core.generation.pipeline.entries import prepare_pixels
from mm4m.core.generation.pipeline.errors import MissingTokenizerError, PipelineError
from mm4m.core.generation.pipeline.inputs import TEXT_FILE_PREFIX, load_input
from mm4m.core.generation.pipeline.outputs import DEFAULT_DECODE_STEPS, GeneratedOutput, GenerationResult
from mm4m.core.generation.pipeline.run import ProgressCallback, ProgressEvent, generate, load_model, resolve_plan
from mm4m.core.generation.pipeline.token_ids import IDS_FORMAT, TokenIds
from mm4m.core.generation.pipeline.tokenizers import TokenizerSet, TokenizerSource

__all__ = [
    "DEFAULT_DECODE_STEPS",
    "IDS_FORMAT",
    "TEXT_FILE_PREFIX",
    "GeneratedOutput",
    "GenerationResult",
    "MissingTokenizerError",
    "PipelineError",
    "ProgressCallback",
    "ProgressEvent",
    "TokenIds",
    "TokenizerSet",
    "TokenizerSource",
    "generate",
    "load_input",
    "load_model",
    "prepare_pixels",
    "resolve_plan",
]
