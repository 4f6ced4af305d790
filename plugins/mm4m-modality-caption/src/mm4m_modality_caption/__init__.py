"""mm4m plugin for caption: captions as WordPiece tokens of the shared 4M text tokenizer."""
