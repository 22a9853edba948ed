"""Padding-free attention: per-conversation SDPA inside a packed row equals running each
conversation alone, in the attention function itself and in a whole training step."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from finetune.attention import attention_for_packing, varlen_sdpa_attention


def causal_reference(q, k, v, groups: int):
    """Textbook causal attention for one conversation: q (heads, T, d), k/v (kv_heads, T, d) -> (T, heads, d)."""
    k, v = k.repeat_interleave(groups, 0), v.repeat_interleave(groups, 0)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    t = q.shape[1]
    scores = scores.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
    return (scores.softmax(-1) @ v).transpose(0, 1)


def test_varlen_attention_equals_causal_attention_per_conversation():
    torch.manual_seed(0)
    heads, kv_heads, dim, lengths = 4, 2, 8, [5, 1, 7, 3]
    total = sum(lengths)
    q, k, v = torch.randn(1, heads, total, dim), torch.randn(1, kv_heads, total, dim), torch.randn(1, kv_heads, total, dim)
    cuts = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    module = SimpleNamespace(num_key_value_groups=heads // kv_heads, is_causal=True, training=False)
    out, weights = varlen_sdpa_attention(module, q, k, v, None, cu_seq_lens_q=cuts, cu_seq_lens_k=cuts)
    assert out.shape == (1, total, heads, dim) and weights is None
    expected = torch.cat([causal_reference(q[0, :, a:b], k[0, :, a:b], v[0, :, a:b], heads // kv_heads)
                          for a, b in zip(cuts.tolist(), cuts[1:].tolist())])
    torch.testing.assert_close(out[0], expected, atol=1e-5, rtol=1e-5)
    # One causal attention over the whole row would mix the conversations: the test can tell.
    whole = causal_reference(q[0], k[0], v[0], heads // kv_heads)
    assert not torch.allclose(whole, expected, atol=1e-3)


def test_without_boundaries_it_is_plain_sdpa():
    torch.manual_seed(1)
    q, k, v = torch.randn(2, 4, 6, 8), torch.randn(2, 2, 6, 8), torch.randn(2, 2, 6, 8)
    module = SimpleNamespace(num_key_value_groups=2, is_causal=True, training=False)
    out, _ = varlen_sdpa_attention(module, q, k, v, None)
    expected = torch.stack([causal_reference(q[i], k[i], v[i], 2) for i in range(2)])
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def rows():
    """Three conversations of different lengths; labels -100 on the prompt part (as the recipe masks it)."""
    torch.manual_seed(0)
    out = []
    for length, prompt in ((9, 4), (6, 2), (12, 7)):
        ids = torch.randint(0, 1000, (length,)).tolist()
        out.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return out


def _model(tiny_llama_dir, attn: str):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32, attn_implementation=attn)
    model.config.use_cache = False  # as in training (TRL sets it)
    return model.train()


def test_a_packed_padding_free_step_matches_training_the_rows_separately(tiny_llama_dir, rows):
    """The loss and every gradient of one padding-free step (TRL's collator, our attention) equal
    those of the token-weighted sum over the conversations run one by one."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    packed_model = _model(tiny_llama_dir, attention_for_packing())
    batch = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(rows)
    assert batch["input_ids"].shape == (1, sum(len(r["input_ids"]) for r in rows)) and "attention_mask" not in batch
    packed_loss = packed_model(**batch).loss
    packed_loss.backward()

    alone_model = _model(tiny_llama_dir, "sdpa")
    counts = [sum(l != -100 for l in r["labels"][1:]) for r in rows]  # tokens with a loss after the shift
    alone_loss = sum(alone_model(input_ids=torch.tensor([r["input_ids"]]), labels=torch.tensor([r["labels"]])).loss * n
                     for r, n in zip(rows, counts)) / sum(counts)
    alone_loss.backward()

    torch.testing.assert_close(packed_loss, alone_loss, atol=1e-5, rtol=1e-5)
    grads = {n: p.grad for n, p in alone_model.named_parameters()}
    for name, p in packed_model.named_parameters():
        torch.testing.assert_close(p.grad, grads[name], atol=1e-5, rtol=1e-4, msg=f"gradient of {name}")


def test_transformers_default_sdpa_also_separates_packed_rows(tiny_llama_dir):
    """Position ids restarting per conversation make transformers' own SDPA mask block-diagonal
    too (the path --no-packing or another attention would take); the logits match running alone."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32).eval()
    torch.manual_seed(0)
    a, b = torch.randint(0, 1000, (1, 9)), torch.randint(0, 1000, (1, 6))
    with torch.no_grad():
        alone = torch.cat([model(a).logits[0], model(b).logits[0]])
        # use_cache=False as in training: with a cache, transformers skips packed-sequence masks.
        packed = model(torch.cat([a, b], 1), position_ids=torch.cat([torch.arange(9), torch.arange(6)])[None], use_cache=False).logits[0]
    assert torch.allclose(alone, packed, atol=1e-5)
