"""A tiny CLIP-shaped model pair, built with onnx.helper, laid out as the real export (models.DEFAULT):
config.json, visual/model.onnx + preprocess_cfg.json, textual/model.onnx + tokenizer.json +
tokenizer_config.json. Same input and output names and dtypes as the real one (``image`` float32
-> ``embedding``; ``input_ids``, ``attention_mask`` int32 -> ``embedding``), a dynamic batch axis
(or a fixed batch of 1, as some exports have).

The visual encoder pools the image to a 4x4 grid of colours and projects it with a fixed random
matrix; the text encoder sums one vector per word. ``words`` gives chosen words their vectors
(for instance an image's own vector), so a test can build a query that must find that image.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

VOCAB = ["<pad>", "<unk>", "<s>", "</s>", "hund", "bil", "folkmassa", "brinnande", "en", "dog", "car"]


def build(
    folder: Path, *, dim: int = 32, size: int = 32, seed: int = 0, words: dict[str, np.ndarray] | None = None, fixed_batch: bool = False
) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    folder = Path(folder)
    (folder / "visual").mkdir(parents=True, exist_ok=True)
    (folder / "textual").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    batch = 1 if fixed_batch else "batch_size"
    context = 8

    # visual: image [b, 3, size, size] -> AveragePool to 4x4 -> Flatten [b, 48] -> MatMul [48, dim] -> embedding [b, dim]
    w = numpy_helper.from_array(rng.standard_normal((48, dim)).astype(np.float32), "proj")
    k = size // 4
    graph = helper.make_graph(
        [
            helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[k, k], strides=[k, k]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "proj"], ["embedding"]),
        ],
        "tiny_visual",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [batch, dim])],
        initializer=[w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), folder / "visual" / "model.onnx")

    # textual: input_ids, attention_mask [b, seq] int32 -> Gather word vectors -> masked sum -> embedding [b, dim]
    table = 0.05 * rng.standard_normal((len(VOCAB), dim)).astype(np.float32)  # small: a chosen word dominates
    table[:4] = 0  # pad, unk, <s>, </s> carry no meaning
    for word, vector in (words or {}).items():
        table[VOCAB.index(word)] = np.asarray(vector, dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["vectors"], axis=0),
            helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
            helper.make_node("Mul", ["vectors", "mask3"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "axis1"], ["embedding"], keepdims=0),
        ],
        "tiny_textual",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT32, [batch, "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT32, [batch, "sequence"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [batch, dim])],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        ],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), folder / "textual" / "model.onnx")

    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)])
    tokenizer.save(str(folder / "textual" / "tokenizer.json"))
    (folder / "textual" / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<pad>", "model_max_length": context}))
    (folder / "config.json").write_text(json.dumps({"embed_dim": dim, "text_cfg": {"context_length": context}}))
    (folder / "visual" / "preprocess_cfg.json").write_text(
        json.dumps(
            {
                "size": [size, size],
                "mean": [0.48145466, 0.4578275, 0.40821073],
                "std": [0.26862954, 0.26130258, 0.27577711],
                "interpolation": "bicubic",
                "resize_mode": "shortest",
            }
        )
    )
    return folder
