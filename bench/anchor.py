"""PyTorch anchor for `pnpm bench` (never a dependency of fmn): the same random BERT-base folder and
pre-tokenized data as fmn, computed the way the paper's reference code does it.

  python3 bench/anchor.py --model DIR --data FILE --task mask|full|predict [--batch 32] [--examples N]

mask:    mask Fisher, batch convention: a head mask [L, H] and an FFN-neuron mask [L, I] of ones with
         requires_grad, the mean cross-entropy of each batch back-propagated, the masks' squared
         gradients summed over batches.
full:    full diagonal Fisher, one example at a time: squared parameter gradients summed over examples.
predict: logits of every example, batch by batch, without gradients.

A minimal BertForSequenceClassification written here (torch only; no transformers): exact-erf GELU,
LayerNorm eps 1e-12, the head mask scaling the attention probabilities, the neuron mask scaling the
intermediate activations, pooler tanh, classifier. Prints one JSON line of results.
"""

import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(buf, dtype=np.float32, count=(b - a) // 4, offset=a).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


class Bert(torch.nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        self.c = config
        self.p = torch.nn.ParameterDict(
            {k.replace(".", "__"): torch.nn.Parameter(v) for k, v in tensors.items()}
        )

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def lin(self, x, name):
        return F.linear(x, self.w(name + ".weight"), self.w(name + ".bias"))

    def ln(self, x, name):
        return F.layer_norm(x, x.shape[-1:], self.w(name + ".weight"), self.w(name + ".bias"), 1e-12)

    def forward(self, ids, types, att, head_mask=None, neuron_mask=None):
        c = self.c
        H = c["num_attention_heads"]
        d = c["hidden_size"] // H
        B, T = ids.shape
        pos = torch.arange(T)
        x = (
            F.embedding(ids, self.w("bert.embeddings.word_embeddings.weight"))
            + F.embedding(pos, self.w("bert.embeddings.position_embeddings.weight"))[None]
            + F.embedding(types, self.w("bert.embeddings.token_type_embeddings.weight"))
        )
        x = self.ln(x, "bert.embeddings.LayerNorm")
        add = (1.0 - att[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in range(c["num_hidden_layers"]):
            p = f"bert.encoder.layer.{l}."
            heads = lambda v: v.view(B, T, H, d).transpose(1, 2)
            q = heads(self.lin(x, p + "attention.self.query"))
            k = heads(self.lin(x, p + "attention.self.key"))
            v = heads(self.lin(x, p + "attention.self.value"))
            probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + add, dim=-1)
            if head_mask is not None:
                probs = probs * head_mask[l][None, :, None, None]
            ctx = (probs @ v).transpose(1, 2).reshape(B, T, H * d)
            a = self.ln(self.lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            f = F.gelu(self.lin(a, p + "intermediate.dense"))
            if neuron_mask is not None:
                f = f * neuron_mask[l]
            x = self.ln(self.lin(f, p + "output.dense") + a, p + "output.LayerNorm")
        pooled = torch.tanh(self.lin(x[:, 0], "bert.pooler.dense"))
        return self.lin(pooled, "classifier")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--task", choices=["mask", "full", "predict"], required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--examples", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    model = Bert(config, read_safetensors(os.path.join(a.model, "model.safetensors")))
    with open(a.data) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if a.examples:
        rows = rows[: a.examples]
    ids = torch.tensor([r["input_ids"] for r in rows])
    types = torch.tensor([r["token_type_ids"] for r in rows])
    att = torch.tensor([r["attention_mask"] for r in rows])
    labels = torch.tensor([r["label"] for r in rows])
    L, H, I = config["num_hidden_layers"], config["num_attention_heads"], config["intermediate_size"]
    t0 = time.perf_counter()
    result = {"task": a.task, "examples": len(rows), "threads": torch.get_num_threads(), "torch": torch.__version__}
    if a.task == "mask":
        for p in model.parameters():
            p.requires_grad_(False)
        head_f = torch.zeros(L, H)
        neuron_f = torch.zeros(L, I)
        for s in range(0, len(rows), a.batch):
            sl = slice(s, s + a.batch)
            hm = torch.ones(L, H, requires_grad=True)
            nm = torch.ones(L, I, requires_grad=True)
            loss = F.cross_entropy(model(ids[sl], types[sl], att[sl], hm, nm), labels[sl])
            loss.backward()
            head_f += hm.grad.detach() ** 2
            neuron_f += nm.grad.detach() ** 2
        result["head_sum"] = float(head_f.sum())
    elif a.task == "full":
        fisher = [torch.zeros_like(p) for p in model.parameters()]
        for i in range(len(rows)):
            model.zero_grad(set_to_none=True)
            sl = slice(i, i + 1)
            F.cross_entropy(model(ids[sl], types[sl], att[sl]), labels[sl]).backward()
            for acc, p in zip(fisher, model.parameters()):
                if p.grad is not None:
                    acc += p.grad.detach() ** 2
        result["sum"] = float(sum(x.sum() for x in fisher))
    else:
        with torch.no_grad():
            for s in range(0, len(rows), a.batch):
                sl = slice(s, s + a.batch)
                model(ids[sl], types[sl], att[sl])
    result["seconds"] = time.perf_counter() - t0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
