"""mm4m plugin for tok_dinov2_global: the global DINOv2-B/14 embedding as 16 tokens of an MLP + Memcodes tokenizer."""
