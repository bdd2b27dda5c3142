"""Transformers: ViT-B/16, GPT-2 medium, MobileBERT and phi-1.5.

Linear layers carry the token count in P. The two attention einsums are kind ``matmul``
(activation x activation). Two conventions:

- ``"standard"`` (the plain names): G = heads; QK^T: C = d_head, M = P = tokens;
  A.V: C = tokens, M = d_head, P = tokens, so each one costs tokens^2 * d_head * heads MACs.
- ``"cimloop"`` (the ``*_cimloop`` names): the layer files of the published study, which put
  the heads in P and drop the query-token dimension: QK^T as C = tokens, M = d_head, A.V as
  C = M = tokens (G = 1). Their MACs are far below the real ones.
"""

from __future__ import annotations

from typing import Literal

from ..layer import Layer
from ._common import conv, fc, network

Convention = Literal["standard", "cimloop"]


def attention_matmuls(prefix: str, tokens: int, heads: int, d_head: int,
                      convention: Convention = "standard") -> list[Layer]:
    """The QK^T and A.V einsums of one multi-head attention."""
    if convention == "standard":
        return [Layer(f"{prefix}.qk", "matmul", G=heads, C=d_head, M=tokens, P=tokens),
                Layer(f"{prefix}.av", "matmul", G=heads, C=tokens, M=d_head, P=tokens)]
    if convention == "cimloop":
        return [Layer(f"{prefix}.qk", "matmul", C=tokens, M=d_head, P=heads),
                Layer(f"{prefix}.av", "matmul", C=tokens, M=tokens, P=heads)]
    raise ValueError(f"unknown attention convention {convention!r}")


def transformer_block(prefix: str, *, tokens: int, d_model: int, heads: int, ffn: int,
                      fused_qkv: bool = False, convention: Convention = "standard",
                      proj_before_matmuls: bool = False) -> list[Layer]:
    """One pre/post-norm transformer block: Q/K/V (or one fused QKV), the attention einsums,
    the output projection and a two-layer MLP. `proj_before_matmuls` lists the output
    projection before the einsums (the order of the study's GPT-2 layer files)."""
    if fused_qkv:
        qkv = [fc(f"{prefix}.attn.qkv", d_model, 3 * d_model, tokens)]
    else:
        qkv = [fc(f"{prefix}.attn.{x}", d_model, d_model, tokens) for x in "qkv"]
    matmuls = attention_matmuls(f"{prefix}.attn", tokens, heads, d_model // heads, convention)
    proj = [fc(f"{prefix}.attn.proj", d_model, d_model, tokens)]
    attention = qkv + (proj + matmuls if proj_before_matmuls else matmuls + proj)
    return [*attention, fc(f"{prefix}.mlp.fc1", d_model, ffn, tokens),
            fc(f"{prefix}.mlp.fc2", ffn, d_model, tokens)]


def vit_encoder(prefix: str, *, image: int, patch: int, layers: int, d_model: int, heads: int,
                ffn: int, convention: Convention = "standard") -> tuple[list[Layer], int]:
    """Patch embedding (a patch x patch conv of stride patch) plus `layers` encoder blocks on
    grid^2 + 1 tokens (class token); returns the layers and the patch grid size."""
    embed, grid = conv(f"{prefix}.patch_embed", 3, d_model, patch, image, patch, 0)
    tokens = grid * grid + 1
    out = [embed]
    for i in range(layers):
        out += transformer_block(f"{prefix}.blocks.{i}", tokens=tokens, d_model=d_model,
                                 heads=heads, ffn=ffn, convention=convention)
    return out, grid


def vit(*, image: int = 224, patch: int = 16, layers: int = 12, d_model: int = 768,
        heads: int = 12, ffn: int = 3072, classes: int = 1000,
        convention: Convention = "standard") -> list[Layer]:
    """A ViT classifier: encoder plus a linear head on the class token."""
    out, _ = vit_encoder("vit", image=image, patch=patch, layers=layers, d_model=d_model,
                         heads=heads, ffn=ffn, convention=convention)
    return [*out, fc("head", d_model, classes)]


def gpt2(*, layers: int = 24, d_model: int = 1024, heads: int = 16, seq: int = 256,
         vocab: int = 50257, convention: Convention = "standard") -> list[Layer]:
    """GPT-2: fused c_attn, 4x MLP, tied LM head applied to every position."""
    out: list[Layer] = []
    for i in range(layers):
        out += transformer_block(f"h.{i}", tokens=seq, d_model=d_model, heads=heads,
                                 ffn=4 * d_model, fused_qkv=True, convention=convention,
                                 proj_before_matmuls=convention == "cimloop")
    return [*out, fc("lm_head", d_model, vocab, seq)]


def phi(*, layers: int = 24, d_model: int = 2048, heads: int = 32, ffn: int = 8192,
        seq: int = 1024, vocab: int = 51200) -> list[Layer]:
    """Phi-1.5: fused Wqkv, parallel attention and MLP (listed one after the other), LM head."""
    out: list[Layer] = []
    for i in range(layers):
        out += transformer_block(f"layers.{i}", tokens=seq, d_model=d_model, heads=heads,
                                 ffn=ffn, fused_qkv=True)
    return [*out, fc("lm_head", d_model, vocab, seq)]


def mobilebert(*, layers: int = 24, hidden: int = 512, bottleneck: int = 128, heads: int = 4,
               intermediate: int = 512, ffns: int = 4, embedding: int = 128, seq: int = 139,
               convention: Convention = "standard") -> list[Layer]:
    """MobileBERT (Sun et al. 2020): trigram embedding projection, then per layer the input and
    shared query/key bottlenecks, Q and K on the bottleneck, V on the full hidden state,
    attention, output dense, `ffns` stacked feed-forward networks and the output bottleneck
    back to `hidden`. Execution order; no pooler or task head."""
    out = [fc("embeddings.embedding_transformation", 3 * embedding, hidden, seq)]
    for i in range(layers):
        p = f"encoder.layer.{i}"
        out += [fc(f"{p}.bottleneck.input", hidden, bottleneck, seq),
                fc(f"{p}.bottleneck.attention", hidden, bottleneck, seq),
                fc(f"{p}.attention.self.query", bottleneck, bottleneck, seq),
                fc(f"{p}.attention.self.key", bottleneck, bottleneck, seq),
                fc(f"{p}.attention.self.value", hidden, bottleneck, seq),
                *attention_matmuls(f"{p}.attention.self", seq, heads, bottleneck // heads,
                                   convention),
                fc(f"{p}.attention.output.dense", bottleneck, bottleneck, seq)]
        for j in range(ffns - 1):
            out += [fc(f"{p}.ffn.{j}.intermediate", bottleneck, intermediate, seq),
                    fc(f"{p}.ffn.{j}.output", intermediate, bottleneck, seq)]
        out += [fc(f"{p}.intermediate.dense", bottleneck, intermediate, seq),
                fc(f"{p}.output.dense", intermediate, bottleneck, seq),
                fc(f"{p}.output.bottleneck.dense", bottleneck, hidden, seq)]
    return out


_CIM = ("reproduces the CiMLoop layer files of the published study, whose attention einsums "
        "put the heads in P and drop the query-token dimension")


@network("vision_transformer", "ViT-B/16 (Dosovitskiy et al. 2021; HF google/vit-base-patch16-224"
         "), 224x224 input, 197 tokens")
def vision_transformer() -> list[Layer]:
    return vit()


@network("vision_transformer_cimloop", f"ViT-B/16, 197 tokens; {_CIM}")
def vision_transformer_cimloop() -> list[Layer]:
    return vit(convention="cimloop")


@network("gpt2_medium", "GPT-2 medium (Radford et al. 2019; HF gpt2-medium, 24 layers, d 1024), "
         "sequence 256, LM head 1024x50257")
def gpt2_medium() -> list[Layer]:
    return gpt2()


@network("gpt2_medium_cimloop", f"GPT-2 medium, sequence 256; {_CIM} (and list c_proj "
         "before them)")
def gpt2_medium_cimloop() -> list[Layer]:
    return gpt2(convention="cimloop")


@network("mobilebert", "MobileBERT (Sun et al. 2020; HF google/mobilebert-uncased, 24 layers), "
         "sequence 139, encoder only")
def mobilebert_uncased() -> list[Layer]:
    return mobilebert()


@network("mobilebert_cimloop", f"MobileBERT, sequence 139; {_CIM}")
def mobilebert_cimloop() -> list[Layer]:
    return mobilebert(convention="cimloop")


@network("msft_phi_1_5", "Phi-1.5 (Li et al. 2023; HF microsoft/phi-1_5, 24 layers, d 2048), "
         "sequence 1024, LM head 2048x51200")
def msft_phi_1_5() -> list[Layer]:
    return phi()

