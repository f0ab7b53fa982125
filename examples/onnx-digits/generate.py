#!/usr/bin/python3
"""Generates the ONNX examples from scikit-learn's copy of the UCI handwritten digits (8x8 images, 1,797 samples;
Debian: python3-sklearn, python3-onnx). Nothing is downloaded.

    /usr/bin/python3 examples/onnx-digits/generate.py

onnx-digits/        a multinomial logistic regression trained on 1,197 images, written as an ONNX graph
                    (MatMul + Add + Softmax + ArgMax) from the trained weights. Job: the 600 held-out images in
                    30 chunks of 20. expected.json: sklearn's own probabilities and labels for them.
onnx-digits-batch/  a 64-256-128-10 ReLU MLP trained on the training images and their one-pixel shifts, taking
                    uint8 pixels. Job (built by the loader from digits.bin): all 1,797 images in 9 shifts = 16,173
                    images in 16 chunks of up to 1,024. expected.json: sklearn's labels for each of them.
digits.bin          the 1,797 images as uint8 (1,797 x 64, pixel values 0..16), then their 1,797 labels.
The output is deterministic (fixed seeds, fixed split).
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH_DIR = os.path.join(HERE, "..", "onnx-digits-batch")
OPSET = 17
SHIFTS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]  # the loader (onnx-examples.ts) shifts the same way


def shift(images, dy, dx):
    """images (n, 64) shifted by dy rows and dx columns, zero-filled (as examples/onnx-digits/onnx-examples.ts)."""
    out = np.zeros_like(images).reshape(-1, 8, 8)
    src = images.reshape(-1, 8, 8)
    ys, yd = (slice(0, 8 - dy), slice(dy, 8)) if dy >= 0 else (slice(-dy, 8), slice(0, 8 + dy))
    xs, xd = (slice(0, 8 - dx), slice(dx, 8)) if dx >= 0 else (slice(-dx, 8), slice(0, 8 + dx))
    out[:, yd, xd] = src[:, ys, xs]
    return out.reshape(-1, 64)


def model_proto(nodes, inputs, outputs, initializers, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="idle-sense examples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def heads(logits):
    """Softmax probabilities and ArgMax label from `logits`."""
    return (
        [helper.make_node("Softmax", [logits], ["probabilities"], axis=1),
         helper.make_node("ArgMax", [logits], ["label"], axis=1, keepdims=0)],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10]),
         helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"])],
    )


def logistic_regression_onnx(clf):
    head_nodes, head_outputs = heads("logits")
    nodes = [helper.make_node("MatMul", ["pixels", "weights"], ["scores"]), helper.make_node("Add", ["scores", "bias"], ["logits"])] + head_nodes
    inits = [numpy_helper.from_array(clf.coef_.T.astype(np.float32), "weights"), numpy_helper.from_array(clf.intercept_.astype(np.float32), "bias")]
    inputs = [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 64])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])] + head_outputs
    return model_proto(nodes, inputs, outputs, inits, "digits_logistic_regression")


def mlp_onnx(mlp):
    nodes = [helper.make_node("Cast", ["pixels"], ["pixels_f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["pixels_f", "scale"], ["x0"])]
    inits = [numpy_helper.from_array(np.array([1 / 16], dtype=np.float32), "scale")]
    last = len(mlp.coefs_) - 1
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"), numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        nodes += [helper.make_node("MatMul", [f"x{i}", f"w{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], ["logits" if i == last else f"a{i}"])]
        if i != last:
            nodes.append(helper.make_node("Relu", [f"a{i}"], [f"x{i + 1}"]))
    head_nodes, head_outputs = heads("logits")
    inputs = [helper.make_tensor_value_info("pixels", TensorProto.UINT8, ["batch", 64])]
    return model_proto(nodes + head_nodes, inputs, head_outputs, inits, "digits_mlp")


def main():
    digits = load_digits()
    images = digits.data.astype(np.uint8)  # values 0..16
    labels = digits.target.astype(np.int64)
    index = np.arange(len(labels))
    train, test = train_test_split(index, test_size=600, random_state=0, stratify=labels)

    # --- onnx-digits: logistic regression, held-out images ---
    clf = LogisticRegression(max_iter=10000, C=0.05, random_state=0).fit(images[train].astype(np.float64), labels[train])
    onnx.save(logistic_regression_onnx(clf), os.path.join(HERE, "model.onnx"))
    test_x = images[test].astype(np.float64)
    proba = clf.predict_proba(test_x)
    predicted = clf.predict(test_x)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({
            "indices": test.tolist(),
            "labels": labels[test].tolist(),
            "sklearnLabels": predicted.tolist(),
            "sklearnProbabilities": np.round(proba, 7).tolist(),
            "sklearnAccuracy": float((predicted == labels[test]).mean()),
        }, f, separators=(",", ":"))

    # --- onnx-digits-batch: MLP on uint8 pixels, every image in every shift ---
    shifted_train = np.concatenate([shift(images[train], dy, dx) for dy, dx in SHIFTS])
    shifted_labels = np.concatenate([labels[train]] * len(SHIFTS))
    mlp = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=60, random_state=0, early_stopping=False)
    mlp.fit(shifted_train / 16.0, shifted_labels)
    onnx.save(mlp_onnx(mlp), os.path.join(BATCH_DIR, "model.onnx"))
    every = np.concatenate([shift(images, dy, dx) for dy, dx in SHIFTS])
    every_labels = np.concatenate([labels] * len(SHIFTS))
    mlp_predicted = mlp.predict(every / 16.0)
    held_out = np.concatenate([np.isin(index, test)] * len(SHIFTS))
    with open(os.path.join(BATCH_DIR, "expected.json"), "w") as f:
        json.dump({
            "shifts": SHIFTS,
            "sklearnLabels": "".join(str(d) for d in mlp_predicted),
            "sklearnAccuracy": float((mlp_predicted == every_labels).mean()),
            "sklearnHeldOutAccuracy": float((mlp_predicted[held_out] == every_labels[held_out]).mean()),
            "heldOut": test.tolist(),
        }, f, separators=(",", ":"))

    with open(os.path.join(HERE, "digits.bin"), "wb") as f:
        f.write(images.tobytes())
        f.write(labels.astype(np.uint8).tobytes())
    print(f"logistic regression: held-out accuracy {(predicted == labels[test]).mean():.4f}")
    print(f"MLP: accuracy over all shifted images {(mlp_predicted == every_labels).mean():.4f}, held-out {(mlp_predicted[held_out] == every_labels[held_out]).mean():.4f}")


if __name__ == "__main__":
    main()
