"""Padding-free attention for packed rows: one causal SDPA call per conversation.

TRL's padding-free collator concatenates a batch's conversations into one row and passes their
boundaries (``cu_seq_lens_q``). transformers' own SDPA path would then build a block-diagonal
mask over the whole row, costing row_length^2 per row; on a CPU that made packing slower than
padding. Running SDPA per conversation costs sum(length_i^2) instead. The function is registered
with transformers' ``AttentionInterface`` (the supported way to add an attention kernel), and
FlashAttention-2's varlen kernel takes its place on a CUDA GPU where ``flash_attn`` is installed.
"""

from __future__ import annotations

VARLEN_ATTENTION = "ragft_varlen_sdpa"


def varlen_sdpa_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    """Attention for padding-free batches: TRL's collator flattens a batch into one row and passes
    the conversation boundaries as ``cu_seq_lens_q``; each conversation gets its own causal SDPA
    (shapes: query (1, heads, total, head_dim), key/value (1, kv_heads, total, head_dim); output
    (1, total, heads, head_dim)). Anything else (padded batches, generation) is plain SDPA."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    bounds = kwargs.get("cu_seq_lens_q")
    if bounds is None or attention_mask is not None or query.shape[0] != 1 or query.shape[2] != key.shape[2]:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs)
    cuts = [int(c) for c in bounds.tolist()]
    pieces = [
        sdpa_attention_forward(module, query[:, :, a:b], key[:, :, a:b], value[:, :, a:b], None,
                               dropout=dropout, scaling=scaling, is_causal=True)[0]
        for a, b in zip(cuts, cuts[1:]) if b > a
    ]
    return torch.cat(pieces, dim=1), None


def attention_for_packing() -> str:
    """FlashAttention-2 on a CUDA GPU when installed, else the per-conversation SDPA above."""
    import importlib.util

    import torch
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, flash_attention_mask

    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    AttentionInterface.register(VARLEN_ATTENTION, varlen_sdpa_attention)
    # Like FlashAttention, it needs no 4-D mask: None when there is no padding, else the 2-D mask.
    ALL_MASK_ATTENTION_FUNCTIONS.register(VARLEN_ATTENTION, flash_attention_mask)
    return VARLEN_ATTENTION
