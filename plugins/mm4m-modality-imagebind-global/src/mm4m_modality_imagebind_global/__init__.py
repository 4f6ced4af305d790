"""mm4m plugin for tok_imagebind_global: the global ImageBind-H/14 embedding as 16 tokens of an MLP + Memcodes tokenizer."""
