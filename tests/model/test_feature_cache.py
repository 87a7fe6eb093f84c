import numpy as np
import torch

from model.feature_cache import TensorCache, content_key, module_digest


def test_keys_change_with_any_input_and_only_then():
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    assert content_key("a", frames, {"pool": 2}) == content_key("a", frames.copy(), {"pool": 2})
    other = frames.copy()
    other[1, 2, 3, 0] = 1
    assert len({content_key("a", frames, {"pool": 2}), content_key("a", other, {"pool": 2})}) == 2
    assert content_key("a", frames, {"pool": 2}) != content_key("a", frames, {"pool": 3})
    assert content_key("a", frames) != content_key("a", frames.reshape(4, 2, 4, 3))  # same bytes, other shape


def test_module_digest_follows_the_weights():
    torch.manual_seed(0)
    first = torch.nn.Linear(3, 2)
    same = torch.nn.Linear(3, 2)
    same.load_state_dict(first.state_dict())
    assert module_digest(first) == module_digest(same)
    with torch.no_grad():
        same.bias[0] += 1e-6
    assert module_digest(first) != module_digest(same)


def test_a_value_is_computed_once_and_read_back_bit_for_bit(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"x": torch.randn(3, 4), "valid": torch.tensor([True, False])}

    cache = TensorCache(tmp_path)
    first = cache.get("ab12", compute)
    again = TensorCache(tmp_path).get("ab12", compute)
    assert len(calls) == 1 and torch.equal(first["x"], again["x"]) and torch.equal(first["valid"], again["valid"])
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["ab12.safetensors"]  # no temporary left
    off = TensorCache(None)
    off.get("ab12", compute)
    off.get("ab12", compute)
    assert len(calls) == 3 and off.misses == 2 and off.hits == 0
