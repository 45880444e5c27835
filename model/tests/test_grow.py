"""Growing a model's depth keeps what it computes, so training continues from where it was."""

import pytest
import torch

from model.network.sequence import attention_mask
from model.network.tokenizer import train_default
from model.network.transformer import ModelConfig, UnifiedModel
from model.research.grow import grow, placement
from model.sampling.diffusion import DiffusionConfig
from model.train import TrainConfig, make_batch


def test_new_blocks_spread_between_the_old_ones_which_keep_their_order():
    assert placement(8, 12) == [0, 1, None, 2, 3, None, 4, 5, None, 6, 7, None]
    assert placement(3, 3) == [0, 1, 2]
    assert placement(2, 6) == [0, None, None, 1, None, None]
    with pytest.raises(ValueError, match="only grows"):
        placement(4, 3)


def test_a_grown_model_computes_what_the_old_one_did_and_its_new_blocks_can_learn():
    tok = train_default()
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=64, n_layers=2, expansion=128, qk_dim=32)
    old = UnifiedModel(cfg)
    grown, bigger = grow({"model": old.state_dict()}, cfg, 3)
    state = grown["model"]
    new = UnifiedModel(bigger)
    new.load_state_dict(state)
    assert bigger.n_layers == 3 and new.num_params() > old.num_params()
    tcfg = TrainConfig(batch_size=4, bf16=False, draw_fraction=0.5)
    b = make_batch(tok, cfg, DiffusionConfig(), tcfg, list(range(4)), torch.Generator().manual_seed(0))[0]
    mask = attention_mask(b.valid, b.image_id)

    def run(m):
        return m(b.tokens, b.patches, b.is_image, b.noise_level, b.positions, mask, *m.empty_cache(4))

    with torch.no_grad():
        (lo, do, ko, _), (ln, dn, kn, _) = run(old), run(new)
    assert torch.allclose(lo, ln, atol=1e-5) and torch.allclose(do, dn, atol=1e-5)
    assert kn.shape[0] == 3 and torch.equal(kn[:2], ko)  # the new block's cache comes after the old ones
    logits, denoised, _, _ = run(new)
    (logits.float().pow(2).mean() + denoised.pow(2).mean()).backward()
    assert new.blocks[2].out.weight.grad.abs().sum() > 0  # a zero output projection still learns
