"""DPT-Large (Ranftl et al. 2021): a ViT-L/16 encoder plus the DPT neck and depth head."""

from __future__ import annotations

from collections.abc import Sequence

from ..layer import Layer
from ._common import conv, fc, network
from .transformers import Convention, vit_encoder


def dpt(*, image: int = 384, patch: int = 16, layers: int = 24, d_model: int = 1024,
        heads: int = 16, ffn: int = 4096, neck: Sequence[int] = (256, 512, 1024, 1024),
        factors: Sequence[float] = (4, 2, 1, 0.5), fusion: int = 256, head: int = 128,
        head_out: int = 32, convention: Convention = "standard") -> list[Layer]:
    """DPT for depth estimation, named and ordered as in HF ``DPTForDepthEstimation``.

    Reassemble, per hooked encoder output: readout projection (Linear 2d -> d on the patch
    tokens), 1x1 conv to `neck[i]`, resize by `factors[i]`. Up-sampling resizes are transposed
    convolutions, which the study's layer files do not contain, so they are left out here too;
    a factor below 1 is a strided 3x3 conv. Then a 3x3 conv per stage to `fusion` channels, the
    fusion stages from the coarsest map (residual conv units, x2 up-sampling, 1x1 projection)
    and the head (3x3 conv, x2 up-sampling, 3x3 conv, 1x1 conv to one channel).
    """
    out, grid = vit_encoder("backbone", image=image, patch=patch, layers=layers,
                            d_model=d_model, heads=heads, ffn=ffn, convention=convention)
    sizes: list[int] = []
    for i, (width, factor) in enumerate(zip(neck, factors, strict=True)):
        p = f"neck.reassemble_stage.layers.{i}"
        out.append(fc(f"neck.reassemble_stage.readout_projects.{i}", 2 * d_model, d_model,
                      grid * grid))
        project, size = conv(f"{p}.projection", d_model, width, 1, grid)
        out.append(project)
        if factor < 1:
            resize, size = conv(f"{p}.resize", width, width, 3, size, round(1 / factor))
            out.append(resize)
        else:
            size = int(size * factor)  # transposed conv (omitted) or identity
        sizes.append(size)
    for i, (width, size) in enumerate(zip(neck, sizes, strict=True)):
        out.append(conv(f"neck.convs.{i}", width, fusion, 3, size)[0])
    size = sizes[-1]
    for j in range(len(neck)):
        p = f"neck.fusion_stage.layers.{j}"
        units = ("residual_layer1", "residual_layer2") if j else ("residual_layer2",)
        for unit in units:
            for k in (1, 2):
                out.append(conv(f"{p}.{unit}.convolution{k}", fusion, fusion, 3, size)[0])
        size *= 2
        out.append(conv(f"{p}.projection", fusion, fusion, 1, size)[0])
    out.append(conv("head.head.0", fusion, head, 3, size)[0])
    size *= 2
    out += [conv("head.head.2", head, head_out, 3, size)[0],
            conv("head.head.4", head_out, 1, 1, size)[0]]
    return out


@network("dpt_large", "DPT-Large (Ranftl et al. 2021; HF Intel/dpt-large): ViT-L/16 at "
         "384x384 (577 tokens) plus DPT neck and depth head")
def dpt_large() -> list[Layer]:
    return dpt()


@network("dpt_large_cimloop", "DPT-Large, 384x384, 577 tokens; reproduces the CiMLoop layer "
         "files of the published study, whose attention einsums put the heads in P and drop "
         "the query-token dimension")
def dpt_large_cimloop() -> list[Layer]:
    return dpt(convention="cimloop")
