"""The official-weights converter: restricted loading, layout checks, and agreement with an
independent numpy re-implementation of the official Theano forward pass."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from official_reference import Reference, Widths, layout, random_arrays

from r2n2_viewer.cli import main as cli_main
from r2n2_viewer.models.checkpoint import load_checkpoint, read_metadata
from r2n2_viewer.models.config import NetConfig, preset
from r2n2_viewer.models.official import (
    OfficialWeightsError,
    convert_official,
    official_layout,
    read_official_arrays,
    save_official_layout,
)

NARROW = Widths(enc=(6, 8, 10, 12, 14, 14), fc=20, hidden=8, dec=(8, 8, 6, 4))
KIND = {"residual": "residual", "gru": "shallow"}


def narrow_cfg(arch: str, w: Widths = NARROW) -> NetConfig:
    return NetConfig(
        encoder=KIND[arch],
        decoder=KIND[arch],
        enc_channels=w.enc,
        fc_features=w.fc,
        hidden_channels=w.hidden,
        dec_channels=w.dec,
    )


@pytest.fixture(scope="module")
def narrow_files(tmp_path_factory) -> dict[str, tuple[Path, list[np.ndarray]]]:
    d = tmp_path_factory.mktemp("official")
    out = {}
    for seed, arch in enumerate(("residual", "gru")):
        arrays = random_arrays(arch, NARROW, seed)
        path = d / f"{arch}.npy"
        save_official_layout(path, arrays)
        out[arch] = (path, arrays)
    return out


def test_full_size_layout_matches_design():
    res = official_layout(preset("res_gru3"))
    gru = official_layout(preset("gru3"))
    assert len(res) == 63 and len(gru) == 33
    assert sum(int(np.prod(s)) for _, s in res) == 35_968_706
    # the reference's layout is written independently, from docs/architecture.md
    assert res == layout("residual", Widths()) and gru == layout("gru", Widths())
    named = dict(res)
    assert named["fc7.W"] == (2304, 1024)
    assert named["t_x_s_update.Wh"] == (128, 3, 128, 3, 3)
    assert named["t_x_rs.Wx"] == (1024, 8192)
    assert named["conv9c.W"] == (64, 1, 128, 1, 1)
    assert [n for n, _ in res[28:32]] == ["conv6b.W", "conv6b.b", "fc7.W", "fc7.b"]


@pytest.mark.parametrize("arch", ["residual", "gru"])
def test_matches_official_reference(arch, narrow_files):
    path, arrays = narrow_files[arch]
    net, meta = convert_official(path, cfg=narrow_cfg(arch))
    assert not net.training and meta["source"] == f"converted from official {path.name}"
    ref = Reference(arch, NARROW, arrays)
    rng = np.random.default_rng(7)
    views = rng.random((3, 2, 3, 127, 127))  # 3 steps, batch of 2
    h_ref = ref.initial_state(2)
    state = net.initial_state(2)
    diffs = []
    for t in range(3):
        x_ref = ref.encode(views[t])
        h_ref, u_ref = ref.step(x_ref, h_ref)
        p_ref = ref.decode(h_ref)
        with torch.no_grad():
            feat = net.encode(torch.from_numpy(views[t]).float())
            state, write = net.step(feat, state)
            p = net.probabilities(net.decode(state)).double().numpy()
        # neither constant nor saturated: the comparison means something
        assert p_ref.std() > 0.03 and ((p_ref < 0.02) | (p_ref > 0.98)).mean() < 0.5
        diffs.append(float(np.abs(p - p_ref).max()))
        np.testing.assert_allclose(feat.double().numpy(), x_ref, atol=1e-4, rtol=1e-4)
        # our state is (N, C, D, H, W); the official one (N, D, C, H, W)
        np.testing.assert_allclose(
            state.double().numpy(), h_ref.transpose(0, 2, 1, 3, 4), atol=1e-5
        )
        np.testing.assert_allclose(write.double().numpy(), 1 - u_ref.mean(2), atol=1e-5)
    print(f"{arch}: max |P_ours - P_ref| per step: {diffs}")
    assert max(diffs) < 1e-4


def test_progress_and_checkpoint_roundtrip(narrow_files, tmp_path):
    from r2n2_viewer.models.checkpoint import save_checkpoint

    path, _ = narrow_files["gru"]
    seen: list[float] = []
    net, meta = convert_official(path, cfg=narrow_cfg("gru"), progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 2
    dst = tmp_path / "gru.safetensors"
    save_checkpoint(dst, net, preset=meta["preset"], source=meta["source"])
    net2, meta2 = load_checkpoint(dst)
    assert meta2["source"].startswith("converted from official")
    for k, v in net.state_dict().items():
        assert torch.equal(v, net2.state_dict()[k])


def test_full_size_file_converts_and_cli(tmp_path, capsys):
    """Real shapes end to end (zeros keep it cheap): detection, conversion, the CLI."""
    src = tmp_path / "ResidualGRUNet.npy"
    save_official_layout(src, [np.zeros(s, np.float32) for _, s in layout("residual", Widths())])
    dst = tmp_path / "res_gru3.safetensors"
    assert cli_main(["convert", str(src), "-o", str(dst)]) == 0
    assert "ResidualGRUNet (--arch residual), 35,968,706 parameters" in capsys.readouterr().out
    meta = read_metadata(dst)
    assert meta["preset"] == "res_gru3"
    assert NetConfig.from_dict(meta["config"]) == preset("res_gru3")
    assert meta["source"] == "converted from official ResidualGRUNet.npy"


# --- bad files --------------------------------------------------------------------------------


def _bad(path: Path, **kw) -> str:
    with pytest.raises(OfficialWeightsError) as info:
        convert_official(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_truncated(narrow_files, tmp_path):
    data = narrow_files["residual"][0].read_bytes()
    for cut in (len(data) // 2, 200, 60):
        bad = tmp_path / "cut.npy"
        bad.write_bytes(data[:cut])
        assert _bad(bad).startswith("cut.npy: file is truncated")


def test_other_network_and_counts(narrow_files, tmp_path):
    path, arrays = narrow_files["gru"]
    msg = _bad(path, arch="residual")
    assert "holds 33 arrays; an official ResidualGRUNet file holds 63" in msg
    assert "GRUNet file" in msg
    few = tmp_path / "few.npy"
    save_official_layout(few, arrays[:12])
    assert "file holds 12 arrays; an official ResidualGRUNet file holds 63 and GRUNet 33" in _bad(
        few
    )


def test_wrong_shape_names_the_array(narrow_files, tmp_path):
    _, arrays = narrow_files["residual"]
    arrays = list(arrays)
    arrays[32] = np.zeros((8, 3, 8, 3, 2), np.float32)  # t_x_s_update.Wh
    bad = tmp_path / "ResidualGRUNet.npy"
    save_official_layout(bad, arrays)
    msg = _bad(bad, cfg=narrow_cfg("residual"))
    assert "array 32 (t_x_s_update.Wh) has shape (8, 3, 8, 3, 2), expected (8, 3, 8, 3, 3)" in msg
    # real widths expected by default
    assert "expected (96, 3, 7, 7)" in _bad(bad)


def test_not_weights_files(tmp_path):
    plain = tmp_path / "plain.npy"
    np.save(plain, np.random.default_rng(0).random((5, 4), dtype=np.float32))
    assert "plain float32 array of shape (5, 4)" in _bad(plain)
    text = tmp_path / "notes.npy"
    text.write_text("these are not weights\n")
    assert "not a .npy file" in _bad(text)
    assert "cannot read" in _bad(tmp_path / "missing.npy")


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_forbidden_global_never_runs(tmp_path, narrow_files):
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.npy"
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = np.zeros(3, np.float32), _Evil(marker)
    np.save(bad, obj, allow_pickle=True)
    msg = _bad(bad)
    assert "forbidden global" in msg and "system" in msg
    assert not marker.exists()
    # protocol 2 as old numpy wrote it (bytes via _codecs.encode), and numpy 1.x's module
    _, arrays = narrow_files["gru"]
    arr = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        arr[i] = a
    for protocol, module in ((2, b"numpy._core"), (3, b"numpy.core"), (5, b"numpy._core")):
        raw = pickle.dumps(arr, protocol=protocol).replace(b"numpy._core", module)
        path = tmp_path / f"p{protocol}.npy"
        with open(path, "wb") as f:
            header = {"descr": "|O", "fortran_order": False, "shape": (len(arrays),)}
            np.lib.format.write_array_header_1_0(f, header)
            f.write(raw)
        got = read_official_arrays(path)
        assert all(np.array_equal(a, b) for a, b in zip(got, arrays, strict=True))


def test_cli_errors(narrow_files, tmp_path, capsys):
    path, _ = narrow_files["gru"]
    assert cli_main(["convert", str(path), "--arch", "residual", "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("r2n2 convert: error:") and "holds 33 arrays" in err
    assert "\n" not in err and not (tmp_path / "x").exists()
