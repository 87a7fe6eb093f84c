"""Small random-weight versions of the real expert models, saved in their upstream (transformers) format.

Weights are drawn wider than the default initialisation so that outputs vary with the input (the default
initialisation of the heads gives constant depth and empty masks, which would test nothing).
"""

from __future__ import annotations

from pathlib import Path

import torch

SAM2_SIZE = 128


def _randomise(model, seed: int, std: float) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)


def depth_anything(path: Path, kind: str = "relative", seed: int = 0) -> Path:
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation

    config = DepthAnythingConfig(
        backbone_config=dict(
            model_type="dinov2",
            hidden_size=32,
            num_hidden_layers=4,
            num_attention_heads=2,
            intermediate_size=64,
            patch_size=14,
            image_size=70,
            out_features=["stage1", "stage2", "stage3", "stage4"],
            reshape_hidden_states=False,
        ),
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        head_hidden_size=8,
        reassemble_hidden_size=32,
        depth_estimation_type=kind,
        max_depth=20,
    )
    model = DepthAnythingForDepthEstimation(config).eval()
    _randomise(model, seed, 0.2)
    model.save_pretrained(path)
    return path


def sam2_video(path: Path, seed: int = 0) -> Path:
    from transformers import Sam2VideoConfig, Sam2VideoModel

    s = SAM2_SIZE
    config = Sam2VideoConfig(
        vision_config=dict(
            model_type="sam2_vision_model",
            backbone_config=dict(
                model_type="sam2_hiera_det_model",
                hidden_size=16,
                blocks_per_stage=[1, 1, 2, 1],
                embed_dim_per_stage=[16, 32, 64, 128],
                num_attention_heads_per_stage=[1, 1, 2, 2],
                global_attention_blocks=[3],  # not the first block of a stage (those pool queries)
                window_size_per_stage=[8, 4, 4, 4],
                image_size=[s, s],
            ),
            backbone_channel_list=[128, 64, 32, 16],
            backbone_feature_sizes=[[s // 4, s // 4], [s // 8, s // 8], [s // 16, s // 16]],
            fpn_hidden_size=128,
        ),
        # 128 channels against the memory's 64: the memory attention has a fixed 64-channel key input
        prompt_encoder_config=dict(hidden_size=128, image_size=s, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=128, num_attention_heads=2, mlp_dim=128, iou_head_hidden_dim=32),
        image_size=s,
        memory_attention_hidden_size=128,
        memory_attention_feed_forward_hidden_size=64,
        memory_attention_num_layers=1,
        memory_attention_rope_feat_sizes=[s // 16, s // 16],
        memory_encoder_hidden_size=128,
        mask_downsampler_embed_dim=128,
        memory_fuser_embed_dim=128,
        memory_fuser_intermediate_dim=64,
    )
    torch.manual_seed(seed)
    model = Sam2VideoModel(config).eval()
    model.save_pretrained(path)
    return path


def sam(path: Path, seed: int = 0) -> Path:
    from transformers import SamConfig, SamModel

    s = SAM2_SIZE
    config = SamConfig(
        vision_config=dict(
            hidden_size=32,
            output_channels=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=s,
            patch_size=16,
            window_size=4,
            global_attn_indexes=[1],
            mlp_dim=64,
            num_pos_feats=16,  # the prompt encoder's point embedding: 2 x 16 = its hidden size
        ),
        prompt_encoder_config=dict(hidden_size=32, image_size=s, patch_size=16, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=32, num_attention_heads=2, mlp_dim=64, iou_head_hidden_dim=32),
    )
    torch.manual_seed(seed)
    model = SamModel(config).eval()
    model.save_pretrained(path)
    return path
