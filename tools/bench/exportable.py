"""Exportable, depth-only DA3 (DinoV2 backbone + DualDPT main branch) for one fixed input size.

`DepthOnlyDA3(net, H, W, ...)` takes an OFFICIAL `DepthAnything3Net` (weights already loaded) and
rebuilds its depth path from the official submodules' weights with rewrites that make
torch.export / ONNX / litert-torch conversion possible. Input (1, 3, H, W) float32 (ImageNet
normalized), output depth (1, 1, H, W) float32 = exp(logit 0) of the DualDPT main branch.
The camera decoder and the auxiliary ray branch are NOT part of it (neither affects depth).

Rewrites (all exact in real arithmetic; ones marked "bit-exact" give identical float32 bits):
  R1 RoPE tables as constants: the official RotaryPositionEmbedding2D computes
     `max_position = int(positions.max()) + 1` (data dependent) and gathers cos/sin with
     F.embedding. Positions are fixed for a fixed size, so the gathered (N, 32) cos/sin tables
     for y and x, for the local positions (special token (0,0), patch (y+1, x+1)) and the global
     ones (special (0,0), every patch (1,1)), are precomputed with the official code and stored
     as buffers. The same t*cos + rotate_half(t)*sin arithmetic follows (bit-exact).
  R2 split q/k/v: the fused qkv Linear (dim -> 3 dim) and its 5-D reshape/permute become three
     Linears + a 4-D (B, heads, N, hd) layout (same dot products; GEMM blocking may change the
     last bit).
  R3 LayerScale folded: ls1.gamma into attn.proj (weight and bias), ls2.gamma into mlp.fc2
     (gamma * (W x + b) = (gamma W) x + gamma b; one rounding of gamma*W differs, ~1e-7 rel).
     Optional (fold_layerscale=False keeps the explicit multiply).
  R4 pos_embed baked: the bicubic interpolation of the 37x37 pos_embed to the patch grid (the
     official interpolate_pos_encoding) is evaluated once and stored as a constant (bit-exact).
  R5 camera token by concat: `x[:, :, 0] = cam_token` (in-place index assignment) becomes
     `cat([camera_token[:, :1], x[:, 1:]])` (bit-exact; single view, no user camera).
  R6 UV position embeddings (DualDPT `_add_pos_embed`, both of them, ratio 0.1) precomputed with
     the official create_uv_grid/position_grid_to_embed. They are separable (first C/2 channels
     depend on the column only, last C/2 on the row only), so they are stored as two small
     tables (1, C/2, 1, w) and (1, C/2, h, 1) and added by broadcasting to the two channel
     halves (bit-exact; checked at construction). uv_mode="full" stores the (1, C, h, w) tensor.
  R7 ConvTranspose2d(k=s, stride=s) (resize_layers 0 and 1), selectable:
     "native"     keep nn.ConvTranspose2d (ONNX ConvTranspose / TFLite TRANSPOSE_CONV);
     "zero_stuff" nearest-upsample x top-left mask, then Conv2d with the flipped, transposed
                  weight and padding (s-1, s) (the LiteRT model card's GPU rewrite; s^2 more
                  MACs);
     "matmul"     1x1 conv to Cout*s*s channels, then pixel_shuffle (depth-to-space); exact
                  same products and sums.
  R8 attention: attn="sdpa" keeps F.scaled_dot_product_attention (scale 1/sqrt(hd));
     attn="explicit" writes softmax((q * scale) @ k^T) @ v.
Kept exactly as the official model: align_corners=True bilinear resizes, erf GELU,
LayerNorm eps (1e-6 blocks, 1e-5 q/k norm, final and head norms), cat_token outputs, exp.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REWRITE_VERSION = "1"


# ----------------------------------------------------------------------------- helpers

def rope_tables(rope, positions: torch.Tensor, head_dim: int):
    """Official RotaryPositionEmbedding2D tables gathered for `positions` (N, 2) (int64).
    Returns cos_y, sin_y, cos_x, sin_x each (1, 1, N, head_dim // 2)."""
    feature_dim = head_dim // 2
    max_position = int(positions.max()) + 1
    cos_comp, sin_comp = rope._compute_frequency_components(
        feature_dim, max_position, torch.device("cpu"), torch.float32)
    out = []
    for axis in (0, 1):
        p = positions[None, :, axis]
        out.append(F.embedding(p, cos_comp)[:, None, :, :].contiguous())
        out.append(F.embedding(p, sin_comp)[:, None, :, :].contiguous())
    return out  # cos_y, sin_y, cos_x, sin_x


def apply_rope_const(t: torch.Tensor, cos_y, sin_y, cos_x, sin_x) -> torch.Tensor:
    """Same arithmetic as RotaryPositionEmbedding2D.forward with gathered tables."""
    d = t.shape[-1] // 2
    tv, th = t[..., :d], t[..., d:]

    def rot(u):
        h = u.shape[-1] // 2
        return torch.cat((-u[..., h:], u[..., :h]), dim=-1)

    tv = tv * cos_y + rot(tv) * sin_y
    th = th * cos_x + rot(th) * sin_x
    return torch.cat((tv, th), dim=-1)


class UVPosEmbed(nn.Module):
    """DualDPT._add_pos_embed for a fixed (C, h, w) and image (W, H), precomputed (R6)."""

    def __init__(self, head, C: int, h: int, w: int, W: int, H: int, mode: str = "separable"):
        super().__init__()
        from depth_anything_3.model.utils.head_utils import create_uv_grid, position_grid_to_embed
        pe = create_uv_grid(w, h, aspect_ratio=W / H, dtype=torch.float32, device=torch.device("cpu"))
        pe = position_grid_to_embed(pe, C) * 0.1
        pe = pe.permute(2, 0, 1)[None].contiguous()  # (1, C, h, w), exactly the official tensor
        self.mode = mode
        self.half = C // 2
        if mode == "full":
            self.register_buffer("pe", pe, persistent=False)
        else:
            pe_u = pe[:, : C // 2, :1, :].contiguous()   # (1, C/2, 1, w): column only
            pe_v = pe[:, C // 2:, :, :1].contiguous()    # (1, C/2, h, 1): row only
            assert torch.equal(pe_u.expand(-1, -1, h, -1), pe[:, : C // 2]), "UV embed not separable"
            assert torch.equal(pe_v.expand(-1, -1, -1, w), pe[:, C // 2:]), "UV embed not separable"
            self.register_buffer("pe_u", pe_u, persistent=False)
            self.register_buffer("pe_v", pe_v, persistent=False)

    def forward(self, x):
        if self.mode == "full":
            return x + self.pe
        return torch.cat((x[:, : self.half] + self.pe_u, x[:, self.half:] + self.pe_v), dim=1)


class ZeroStuffConvTranspose(nn.Module):
    """ConvTranspose2d(k=s, stride=s, padding 0) as zero-stuff + Conv2d (R7 "zero_stuff", the card's
    rewrite 6): nearest upsample x a constant top-left mask (built in numpy, so no SELECT_V2 /
    BROADCAST_TO / >4-D tensors appear), pad (s-1) before, Conv2d with the flipped, transposed weight."""

    def __init__(self, ct: nn.ConvTranspose2d):
        super().__init__()
        s = ct.stride[0]
        assert ct.kernel_size == (s, s) and ct.stride == (s, s) and ct.padding == (0, 0)
        self.s = s
        w = ct.weight.detach().flip(-1, -2).transpose(0, 1).contiguous()  # (out, in, k, k)
        self.conv = nn.Conv2d(w.shape[1], w.shape[0], s, 1, padding=0, bias=ct.bias is not None)
        with torch.no_grad():
            self.conv.weight.copy_(w)
            if ct.bias is not None:
                self.conv.bias.copy_(ct.bias.detach())

    def forward(self, x):
        s = self.s
        _, _, h, w = x.shape
        up = F.interpolate(x, scale_factor=s, mode="nearest")
        m = np.zeros((1, 1, h * s, w * s), dtype=np.float32)
        m[..., ::s, ::s] = 1
        z = up * torch.from_numpy(m)
        # output pixel o = sum over taps: with flipped kernel, pad (s-1) before and 0 after
        z = F.pad(z, (s - 1, 0, s - 1, 0))
        return self.conv(z)


class MatmulConvTranspose(nn.Module):
    """ConvTranspose2d(k=s, stride=s) as 1x1 conv to Cout*s*s then pixel_shuffle (R7 "matmul")."""

    def __init__(self, ct: nn.ConvTranspose2d):
        super().__init__()
        s = ct.stride[0]
        assert ct.kernel_size == (s, s) and ct.stride == (s, s) and ct.padding == (0, 0)
        self.s = s
        cin, cout = ct.weight.shape[0], ct.weight.shape[1]
        # weight (in, out, ky, kx) -> (out*ky*kx, in, 1, 1): channel order (out, ky, kx) as pixel_shuffle
        w = ct.weight.detach().permute(1, 2, 3, 0).reshape(cout * s * s, cin, 1, 1).contiguous()
        self.conv = nn.Conv2d(cin, cout * s * s, 1, bias=ct.bias is not None)
        with torch.no_grad():
            self.conv.weight.copy_(w)
            if ct.bias is not None:
                self.conv.bias.copy_(ct.bias.detach().repeat_interleave(s * s))

    def forward(self, x):
        return F.pixel_shuffle(self.conv(x), self.s)


def convert_convtranspose(ct: nn.Module, mode: str) -> nn.Module:
    if not isinstance(ct, nn.ConvTranspose2d) or mode == "native":
        return ct
    if mode == "zero_stuff":
        return ZeroStuffConvTranspose(ct)
    if mode == "matmul":
        return MatmulConvTranspose(ct)
    raise ValueError(mode)


# ----------------------------------------------------------------------------- backbone

class ExportBlock(nn.Module):
    """Official dinov2 Block (eval, no drop path) with rewrites R2, R3, R8."""

    def __init__(self, blk, *, split_qkv: bool, fold_layerscale: bool, attn: str):
        super().__init__()
        a = blk.attn
        C = a.qkv.in_features
        self.num_heads = a.num_heads
        self.head_dim = C // a.num_heads
        self.scale = a.scale
        self.attn_mode = attn
        self.norm1, self.norm2 = blk.norm1, blk.norm2
        self.q_norm, self.k_norm = a.q_norm, a.k_norm
        self.has_rope = a.rope is not None
        self.split_qkv = split_qkv
        if split_qkv:
            Wq, Wk, Wv = a.qkv.weight.detach().split(C, dim=0)
            bq, bk, bv = a.qkv.bias.detach().split(C, dim=0)
            self.q, self.k, self.v = (nn.Linear(C, C) for _ in range(3))
            with torch.no_grad():
                for lin, w_, b_ in ((self.q, Wq, bq), (self.k, Wk, bk), (self.v, Wv, bv)):
                    lin.weight.copy_(w_)
                    lin.bias.copy_(b_)
        else:
            self.qkv = a.qkv
        self.proj = nn.Linear(C, C)
        self.fc1, self.act = blk.mlp.fc1, blk.mlp.act
        self.fc2 = nn.Linear(blk.mlp.fc2.in_features, C)
        g1 = blk.ls1.gamma.detach() if hasattr(blk.ls1, "gamma") else torch.ones(C)
        g2 = blk.ls2.gamma.detach() if hasattr(blk.ls2, "gamma") else torch.ones(C)
        self.fold = fold_layerscale
        with torch.no_grad():
            if fold_layerscale:
                self.proj.weight.copy_(a.proj.weight * g1[:, None])
                self.proj.bias.copy_(a.proj.bias * g1)
                self.fc2.weight.copy_(blk.mlp.fc2.weight * g2[:, None])
                self.fc2.bias.copy_(blk.mlp.fc2.bias * g2)
            else:
                self.proj.load_state_dict(a.proj.state_dict())
                self.fc2.load_state_dict(blk.mlp.fc2.state_dict())
        self.register_buffer("g1", g1.clone(), persistent=False)
        self.register_buffer("g2", g2.clone(), persistent=False)

    def attention(self, x, rope):
        B, N, C = x.shape
        H, hd = self.num_heads, self.head_dim
        if self.split_qkv:
            q = self.q(x).reshape(B, N, H, hd).transpose(1, 2)
            k = self.k(x).reshape(B, N, H, hd).transpose(1, 2)
            v = self.v(x).reshape(B, N, H, hd).transpose(1, 2)
        else:
            qkv = self.qkv(x).reshape(B, N, 3, H, hd).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
        q, k = self.q_norm(q), self.k_norm(k)
        if self.has_rope and rope is not None:
            q = apply_rope_const(q, *rope)
            k = apply_rope_const(k, *rope)
        if self.attn_mode == "sdpa":
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            o = torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1) @ v
        o = o.transpose(1, 2).reshape(B, N, C)
        return self.proj(o)

    def forward(self, x, rope):
        a = self.attention(self.norm1(x), rope)
        if not self.fold:
            a = a * self.g1
        x = x + a
        m = self.fc2(self.act(self.fc1(self.norm2(x))))
        if not self.fold:
            m = m * self.g2
        return x + m


class DepthOnlyDA3(nn.Module):
    """See the module docstring. `net` is an official DepthAnything3Net (single view)."""

    def __init__(self, net, H: int, W: int, *, split_qkv: bool = True, fold_layerscale: bool = True,
                 convt: str = "native", attn: str = "sdpa", uv_mode: str = "separable"):
        super().__init__()
        vit = net.backbone.pretrained
        head = net.head
        ps = vit.patch_size
        assert H % ps == 0 and W % ps == 0
        self.H, self.W, self.ph, self.pw = H, W, H // ps, W // ps
        self.dim = vit.embed_dim
        self.out_layers = list(net.backbone.out_layers)
        self.alt_start = vit.alt_start
        self.rope_start = vit.rope_start
        self.cat_token = vit.cat_token
        assert vit.num_register_tokens == 0 and vit.patch_start_idx == 1 and self.cat_token
        self.patch_embed = vit.patch_embed
        self.register_buffer("cls_token", vit.cls_token.detach().clone(), persistent=False)
        self.register_buffer("camera_token", vit.camera_token.detach()[:, :1].clone(), persistent=False)
        with torch.no_grad():
            dummy = torch.zeros(1, 1 + self.ph * self.pw, self.dim)
            # official prepare_tokens_with_masks unpacks `B, S, nc, w, h = x.shape`, i.e. passes
            # (H, W) as its (w, h): mirror that call exactly
            pos = vit.interpolate_pos_encoding(dummy, H, W)
        self.register_buffer("pos_embed", pos.detach().clone(), persistent=False)
        self.blocks = nn.ModuleList(
            ExportBlock(b, split_qkv=split_qkv, fold_layerscale=fold_layerscale, attn=attn)
            for b in vit.blocks)
        self.norm = vit.norm
        # RoPE tables (R1), computed by the official position getter + rope module
        if vit.rope is not None:
            B = 1
            pos_l, pos_g = vit._prepare_rope(B, 1, H, W, torch.device("cpu"))
            pos_l, pos_g = pos_l[0, 0], pos_g[0, 0]  # (N, 2)
            hd = self.dim // vit.num_heads
            for name, p in (("l", pos_l), ("g", pos_g)):
                for tname, t in zip(("cos_y", "sin_y", "cos_x", "sin_x"), rope_tables(vit.rope, p, hd)):
                    self.register_buffer(f"rope_{name}_{tname}", t, persistent=False)
            self.has_rope = True
        else:
            self.has_rope = False
        # head (main branch only)
        self.head_norm = head.norm
        self.projects = head.projects
        self.resize_layers = nn.ModuleList(convert_convtranspose(m, convt) for m in head.resize_layers)
        self.scratch = head.scratch
        self.patch_size = head.patch_size
        oc = [p.out_channels for p in head.projects]
        self.pe_stage = nn.ModuleList(UVPosEmbed(head, c, self.ph, self.pw, W, H, uv_mode) for c in oc)
        c_last = head.scratch.output_conv1.out_channels
        self.pe_final = UVPosEmbed(head, c_last, self.ph * ps, self.pw * ps, W, H, uv_mode)
        self.use_pe = head.pos_embed
        # Hooks for converters (tools/litert): the final resize, whether the second UV embedding is
        # added, and whether special tokens are expanded to the batch (B = 1 needs no expand).
        self.final_interpolate = lambda t, size: F.interpolate(t, size=size, mode="bilinear", align_corners=True)
        self.final_pe = True
        self.expand_tokens = True
        self.activation = head.activation
        assert head.down_ratio == 1 and self.activation == "exp"

    def rope(self, kind):
        if not self.has_rope:
            return None
        return tuple(getattr(self, f"rope_{kind}_{t}") for t in ("cos_y", "sin_y", "cos_x", "sin_x"))

    def special(self, token, batch):
        return token.expand(batch, -1, -1) if self.expand_tokens else token

    def backbone(self, img):
        x = self.patch_embed(img)  # (1, N, C)
        x = torch.cat((self.special(self.cls_token, x.shape[0]), x), dim=1)
        x = x + self.pos_embed
        outs = []
        local_x = x
        for i, blk in enumerate(self.blocks):
            if self.alt_start != -1 and i == self.alt_start:
                x = torch.cat((self.special(self.camera_token, x.shape[0]), x[:, 1:]), dim=1)  # R5
            use_rope = self.has_rope and i >= self.rope_start
            if self.alt_start != -1 and i >= self.alt_start and i % 2 == 1:
                x = blk(x, self.rope("g") if use_rope else None)
            else:
                x = blk(x, self.rope("l") if use_rope else None)
                local_x = x
            if i in self.out_layers:
                outs.append(torch.cat((local_x, self.norm(x)), dim=-1)[:, 1:])
        return outs

    def head(self, feats):
        B = feats[0].shape[0]
        ph, pw = self.ph, self.pw
        rs = []
        for i, f in enumerate(feats):
            x = self.head_norm(f)
            x = x.permute(0, 2, 1).reshape(B, x.shape[-1], ph, pw)
            x = self.projects[i](x)
            if self.use_pe:
                x = self.pe_stage[i](x)
            x = self.resize_layers[i](x)
            rs.append(x)
        s = self.scratch
        l1, l2, l3, l4 = s.layer1_rn(rs[0]), s.layer2_rn(rs[1]), s.layer3_rn(rs[2]), s.layer4_rn(rs[3])
        out = s.refinenet4(l4, size=l3.shape[2:])
        out = s.refinenet3(out, l3, size=l2.shape[2:])
        out = s.refinenet2(out, l2, size=l1.shape[2:])
        out = s.refinenet1(out, l1)
        out = s.output_conv1(out)
        out = self.final_interpolate(out, (ph * self.patch_size, pw * self.patch_size))
        if self.use_pe and self.final_pe:
            out = self.pe_final(out)
        logits = s.output_conv2(out)
        return torch.exp(logits[:, :1])

    def forward(self, img):
        return self.head(self.backbone(img))


# ----------------------------------------------------------------------------- official, depth only

def main_branch_forward_impl(self, feats, H, W, patch_start_idx):
    """Drop-in for DualDPT._forward_impl computing the main (depth) branch only, from the
    official submodules and in the official order; the auxiliary ray branch is skipped."""
    from depth_anything_3.model.utils.head_utils import custom_interpolate
    B, _, C = feats[0].shape
    ph, pw = H // self.patch_size, W // self.patch_size
    resized = []
    for stage_idx, take_idx in enumerate(self.intermediate_layer_idx):
        x = feats[take_idx][:, patch_start_idx:]
        x = self.norm(x)
        x = x.permute(0, 2, 1).reshape(B, C, ph, pw)
        x = self.projects[stage_idx](x)
        if self.pos_embed:
            x = self._add_pos_embed(x, W, H)
        x = self.resize_layers[stage_idx](x)
        resized.append(x)
    l1, l2, l3, l4 = resized
    s = self.scratch
    l1_rn, l2_rn, l3_rn, l4_rn = s.layer1_rn(l1), s.layer2_rn(l2), s.layer3_rn(l3), s.layer4_rn(l4)
    out = s.refinenet4(l4_rn, size=l3_rn.shape[2:])
    out = s.refinenet3(out, l3_rn, size=l2_rn.shape[2:])
    out = s.refinenet2(out, l2_rn, size=l1_rn.shape[2:])
    out = s.refinenet1(out, l1_rn)
    fused_main = s.output_conv1(out)
    h_out = int(ph * self.patch_size / self.down_ratio)
    w_out = int(pw * self.patch_size / self.down_ratio)
    fused_main = custom_interpolate(fused_main, (h_out, w_out), mode="bilinear", align_corners=True)
    if self.pos_embed:
        fused_main = self._add_pos_embed(fused_main, W, H)
    main_logits = s.output_conv2(fused_main)
    fmap = main_logits.permute(0, 2, 3, 1)
    main_pred = self._apply_activation_single(fmap[..., :-1], self.activation)
    main_conf = self._apply_activation_single(fmap[..., -1], self.conf_activation)
    return {self.head_main: main_pred.squeeze(-1), f"{self.head_main}_conf": main_conf}


def make_depth_only(net) -> None:
    """Patch an official DepthAnything3Net in place: DualDPT main branch only (no ray branch),
    camera decoder skipped (cam_dec = None: `_process_camera_estimation` then does nothing)."""
    import types
    net.head._forward_impl = types.MethodType(main_branch_forward_impl, net.head)
    net.cam_dec = None


# ----------------------------------------------------------------------------- FLOPs

def analytic_flops(H: int, W: int, *, dim=384, depth=12, heads=6, mlp_ratio=4, patch=14,
                   features=64, out_channels=(48, 96, 192, 384)) -> dict:
    """Multiply-add FLOPs (2*M*N*K per matmul / conv; elementwise ops, norms, softmax, resizes
    not counted) of the depth-only forward at input H x W. ConvTranspose counted natively
    (2 * Hin*Win * Cin * Cout * k*k)."""
    gh, gw = H // patch, W // patch
    P = gh * gw
    N = P + 1                      # tokens incl. the cls/camera token
    C = dim
    f = {}
    f["patch_embed"] = 2 * P * C * 3 * patch * patch
    f["backbone_linear"] = depth * 2 * N * C * (3 * C + C + mlp_ratio * C + mlp_ratio * C)
    f["attention"] = depth * 2 * (2 * N * N * C)          # q k^T and attn v, all heads
    # head
    h = 0
    cin = 2 * C
    lv = [(4 * gh, 4 * gw), (2 * gh, 2 * gw), (gh, gw), ((gh + 1) // 2, (gw + 1) // 2)]
    for i, oc in enumerate(out_channels):
        h += 2 * P * cin * oc                                         # projects (1x1)
    h += 2 * P * out_channels[0] * out_channels[0] * 16               # ConvT k4 s4
    h += 2 * P * out_channels[1] * out_channels[1] * 4                # ConvT k2 s2
    h += 2 * lv[3][0] * lv[3][1] * out_channels[3] * out_channels[3] * 9  # conv 3x3 s2
    for i, oc in enumerate(out_channels):
        h += 2 * lv[i][0] * lv[i][1] * oc * features * 9              # layerN_rn
    F2 = 2 * features * features * 9                                  # one 3x3 conv per pixel
    F1 = 2 * features * features                                      # one 1x1 conv per pixel
    # refinenet4 at lv3 (RCU2 only), up to lv2, out_conv at lv2
    h += 2 * F2 * lv[3][0] * lv[3][1] + F1 * lv[2][0] * lv[2][1]
    # refinenet3 at lv2 (RCU1 + RCU2), out_conv at lv1
    h += 4 * F2 * lv[2][0] * lv[2][1] + F1 * lv[1][0] * lv[1][1]
    # refinenet2 at lv1, out_conv at lv0
    h += 4 * F2 * lv[1][0] * lv[1][1] + F1 * lv[0][0] * lv[0][1]
    # refinenet1 at lv0, upsample x2, out_conv at 8x
    h8 = (8 * gh) * (8 * gw)
    h += 4 * F2 * lv[0][0] * lv[0][1] + F1 * h8
    h += 2 * h8 * features * (features // 2) * 9                      # output_conv1
    HW = (gh * patch) * (gw * patch)
    h += 2 * HW * (features // 2) * 32 * 9 + 2 * HW * 32 * 2          # output_conv2
    f["head"] = h
    f["total"] = f["patch_embed"] + f["backbone_linear"] + f["attention"] + f["head"]
    return f
