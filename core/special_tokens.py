"""Ids of the special tokens of the shared 4M text vocabulary (spec §1.5), used by masking and generation."""

PAD_ID = 0
"""``[PAD]``: also the ``padding_idx`` of every sequence embedding."""
UNK_ID = 1
SOS_ID = 2
"""``[SOS]``: present in the vocabulary, unused by 4M."""
EOS_ID = 3
NUM_SENTINELS = 200
"""Sentinels ``[S_0]`` … ``[S_199]``; span masking starts at ``[S_1]``."""
FIRST_SENTINEL_ID = 4


def sentinel_id(k: int) -> int:
    """Id of sentinel ``[S_k]`` (``4 + k``)."""
    if not 0 <= k < NUM_SENTINELS:
        raise ValueError(f"sentinel index must be in [0, {NUM_SENTINELS}), got {k}")
    return FIRST_SENTINEL_ID + k


def is_sentinel(token_id: int) -> bool:
    """True for the ids of ``[S_0]`` … ``[S_199]``."""
    return FIRST_SENTINEL_ID <= token_id < FIRST_SENTINEL_ID + NUM_SENTINELS
