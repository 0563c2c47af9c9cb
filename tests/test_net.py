"""The network family: shapes, presets, the fast unpool-conv, init, checkpoints."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from r2n2_viewer.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from r2n2_viewer.models.config import PRESETS, NetConfig, preset
from r2n2_viewer.models.layers import Conv3d, unpool3d, unpool_conv3d
from r2n2_viewer.models.net import R2N2


def test_official_parameter_counts():
    # ResidualGRUNet.npy holds 35,968,706 values in 63 arrays (docs/architecture.md)
    assert R2N2(preset("res_gru3")).num_parameters() == 35_968_706


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_shapes_and_api(name):
    torch.manual_seed(0)
    cfg = PRESETS[name]
    if name != "small":  # narrow copies keep the topology but run fast
        cfg = NetConfig(
            **{
                **cfg.to_dict(),
                "enc_channels": (8,) * 6,
                "fc_features": 16,
                "hidden_channels": 8,
                "dec_channels": (8, 8, 8, 8),
            }
        )
    net = R2N2(cfg).eval()
    x = torch.rand(2, 3, 127, 127)
    with torch.no_grad():
        f = net.encode(x)
        assert f.shape == (2, cfg.fc_features)
        s0 = net.initial_state(2)
        s1, gate = net.step(f, s0)
        assert gate.shape == (2, 4, 4, 4)
        assert float(gate.min()) >= 0.0 and float(gate.max()) <= 1.0
        logits = net.decode(s1)
        assert logits.shape == (2, 2, 32, 32, 32)
        p = net.probabilities(logits)
        assert p.shape == (2, 32, 32, 32)
        assert torch.allclose(p, torch.sigmoid(logits[:, 1] - logits[:, 0]), atol=1e-6)
        seq = torch.rand(3, 2, 3, 127, 127)
        every = net(seq, every_step=True)
        assert every.shape == (3, 2, 2, 32, 32, 32)
        assert torch.allclose(every[-1], net(seq), atol=1e-5)


@pytest.mark.parametrize("k", [1, 3])
def test_unpool_conv_equals_conv_of_zero_insertion(k):
    torch.manual_seed(1)
    x = torch.randn(2, 5, 3, 4, 5, dtype=torch.float64)
    w = torch.randn(7, 5, k, k, k, dtype=torch.float64)
    b = torch.randn(7, dtype=torch.float64)
    up = unpool3d(x)
    assert up.shape == (2, 5, 6, 8, 10)
    assert torch.equal(up[:, :, ::2, ::2, ::2], x)
    assert up.abs().sum() == x.abs().sum()  # everything else is zero
    ref = F.conv3d(up, w, b, padding=(k - 1) // 2)
    assert torch.allclose(unpool_conv3d(x, w, b), ref, atol=1e-10)


@pytest.mark.parametrize("cin, cout, k, grid", [(8, 8, 3, 32), (16, 2, 3, 32), (4, 8, 1, 16)])
def test_narrow_batch_one_conv_takes_onednn_and_matches(cin, cout, k, grid):
    if not torch.backends.mkldnn.is_available():
        pytest.skip("this torch has no oneDNN")
    torch.manual_seed(0)
    conv = Conv3d(cin, cout, k)
    x = torch.rand(1, cin, grid, grid, grid)
    with torch.inference_mode(), torch.profiler.profile() as prof:
        y = conv(x)
    ops = {e.key for e in prof.key_averages()}
    assert "aten::mkldnn_convolution" in ops and "aten::slow_conv3d_forward" not in ops
    ref = F.conv3d(x, conv.weight.detach(), conv.bias.detach(), padding=(k - 1) // 2)
    torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-5)
    with torch.enable_grad():  # training keeps PyTorch's own path (and its autograd)
        y2 = conv(x)
    assert y2.requires_grad
    torch.testing.assert_close(y2.detach(), ref, rtol=1e-5, atol=1e-5)


def test_lstm_state_holds_hidden_and_cell():
    cfg = NetConfig(
        **{
            **preset("lstm1").to_dict(),
            "enc_channels": (8,) * 6,
            "fc_features": 16,
            "hidden_channels": 8,
            "dec_channels": (8,) * 4,
        }
    )
    net = R2N2(cfg).eval()
    assert net.initial_state(1).shape == (1, 16, 4, 4, 4)


def test_init_follows_paper():
    net = R2N2(preset("small"))
    gate = net.cell.t_x_s_update
    assert torch.all(gate.bias == 0.1)
    assert torch.all(net.encoder.fc7.bias == 0.1)
    w = gate.conv.weight.detach().reshape(gate.conv.weight.shape[0], -1).double()
    # rows of the recurrent kernel are orthogonal
    gram = w @ w.T
    off = gram - torch.diag(torch.diag(gram))
    assert off.abs().max() < 1e-4 * gram.diag().abs().max()


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="cell"):
        NetConfig(cell="rnn")
    with pytest.raises(ValueError, match="unknown preset"):
        preset("nope")
    with pytest.raises(ValueError, match="unknown network config"):
        NetConfig.from_dict({"bogus": 1})


def test_checkpoint_round_trip(tmp_path, tiny_net):
    p = tmp_path / "m.safetensors"
    save_checkpoint(p, tiny_net, preset="tiny", metrics={"iou": {"1": 0.5}})
    net, meta = load_checkpoint(p)
    assert meta["metrics"]["iou"]["1"] == 0.5
    assert NetConfig.from_dict(meta["config"]) == tiny_net.cfg
    x = torch.rand(1, 3, 127, 127)
    with torch.no_grad():
        a = tiny_net.decode(tiny_net.step(tiny_net.encode(x), tiny_net.initial_state(1))[0])
        b = net.decode(net.step(net.encode(x), net.initial_state(1))[0])
    assert torch.equal(a, b)


def test_checkpoint_bad_files(tmp_path, tiny_net):
    text = tmp_path / "t.safetensors"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="not a safetensors"):
        load_checkpoint(text)
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.safetensors")
    good = tmp_path / "g.safetensors"
    save_checkpoint(good, tiny_net)
    data = good.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "trunc.safetensors")
    # weights of another network under the same names -> names the mis-shaped tensor
    other = R2N2(NetConfig(**{**tiny_net.cfg.to_dict(), "fc_features": 24}))
    save_checkpoint(tmp_path / "o.safetensors", other)
    meta_swapped = tmp_path / "o.safetensors"
    import json

    from safetensors.torch import load_file, save_file

    tensors = load_file(meta_swapped)
    meta = {
        "r2n2": json.dumps({"format": "r2n2-viewer-checkpoint/1", "config": tiny_net.cfg.to_dict()})
    }
    save_file(tensors, tmp_path / "mismatch.safetensors", metadata=meta)
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(tmp_path / "mismatch.safetensors")


def test_inference_loading_flushes_subnormal_weights(tmp_path, tiny_net):
    from r2n2_viewer.weights import load_model

    net = R2N2(tiny_net.cfg)
    net.load_state_dict(tiny_net.state_dict())
    name = next(n for n, _ in net.named_parameters() if n.endswith("conv.weight"))
    with torch.no_grad():
        net.get_parameter(name).view(-1)[:5] = torch.tensor([1e-40, -3e-39, 2e-45, 0.0, 0.25])
    save_checkpoint(tmp_path / "m.safetensors", net, preset="tiny")

    def subnormal(t: torch.Tensor) -> int:
        return int(((t != 0) & (t.abs() < torch.finfo(torch.float32).tiny)).sum())

    exact, _ = load_checkpoint(tmp_path / "m.safetensors")  # training's loader keeps them
    assert subnormal(exact.get_parameter(name)) == 3
    flushed, _ = load_model(tmp_path / "m.safetensors")  # inference loading flushes them
    assert sum(subnormal(t) for t in flushed.state_dict().values() if t.is_floating_point()) == 0
    assert flushed.get_parameter(name).view(-1)[4] == 0.25
    x = torch.rand(2, 1, 3, 127, 127)
    with torch.inference_mode():
        torch.testing.assert_close(flushed(x, every_step=True), exact(x, every_step=True))
    assert flushed.flush_subnormals() == 0
