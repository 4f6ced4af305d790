"""Data: synthetic multimodal scenes, the sharded pre-tokenized dataset format and its loader."""
