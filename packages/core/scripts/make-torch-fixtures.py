#!/usr/bin/python3
"""Writes the small PyTorch checkpoints the torch reader's tests read (packages/core/src/torch/fixtures/).

Run with Debian's python3 and python3-torch (apt-get install python3-torch):
    /usr/bin/python3 packages/core/scripts/make-torch-fixtures.py
Each fixture X.bin comes with X.expected.json: for every tensor its dtype, shape and values in
row-major order (floats as Python writes them; bf16/fp16 values are exact in a double).
The tests need no Python: the files are committed.
"""
import collections
import json
import os
import pickle
import struct
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'torch', 'fixtures')
DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
          torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8', torch.bool: 'BOOL'}


def expected(sd):
    out = {}
    for name, t in sd.items():
        vals = t.detach().contiguous().reshape(-1)
        if t.dtype in (torch.float16, torch.bfloat16):
            vals = vals.to(torch.float64)
        out[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'values': vals.tolist()}
    return out


def save(name, sd, legacy=False, exp=None):
    path = os.path.join(OUT, name)
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    stem = name.rsplit('.', 1)[0]
    with open(os.path.join(OUT, stem + '.expected.json'), 'w') as f:
        json.dump(exp if exp is not None else expected(sd), f)
        f.write('\n')


TINY_WORDS = ['good', 'bad', 'movie', 'film', 'great', 'awful', 'fun', 'boring', 'the', 'is', 'very', 'not',
              'dog', 'cat', 'a', 'and']


def write_tiny_bert(folder, rnd):
    os.makedirs(folder, exist_ok=True)
    vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + TINY_WORDS
    h, inter, layers, positions, labels = 16, 32, 2, 32, 2
    config = {'architectures': ['BertForSequenceClassification'], 'model_type': 'bert',
              'vocab_size': len(vocab), 'hidden_size': h, 'num_hidden_layers': layers,
              'num_attention_heads': 2, 'intermediate_size': inter, 'hidden_act': 'gelu',
              'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
              'max_position_embeddings': positions, 'type_vocab_size': 2, 'initializer_range': 0.02,
              'layer_norm_eps': 1e-12, 'pad_token_id': 0, 'position_embedding_type': 'absolute',
              'id2label': {'0': 'negative', '1': 'positive'}, 'label2id': {'negative': 0, 'positive': 1}}
    sd = collections.OrderedDict()
    w = lambda *shape: rnd(*shape) * 0.2
    sd['bert.embeddings.position_ids'] = torch.arange(positions, dtype=torch.int64).reshape(1, positions)
    sd['bert.embeddings.word_embeddings.weight'] = w(len(vocab), h)
    sd['bert.embeddings.position_embeddings.weight'] = w(positions, h)
    sd['bert.embeddings.token_type_embeddings.weight'] = w(2, h)
    sd['bert.embeddings.LayerNorm.weight'] = 1 + w(h) * 0.1
    sd['bert.embeddings.LayerNorm.bias'] = w(h) * 0.1
    for i in range(layers):
        p = 'bert.encoder.layer.%d.' % i
        # the three projections as views of one fused [3h, h] storage, as some exporters write them
        qkv = w(3 * h, h)
        for k, name in enumerate(['query', 'key', 'value']):
            sd[p + 'attention.self.%s.weight' % name] = qkv[k * h:(k + 1) * h]
            sd[p + 'attention.self.%s.bias' % name] = w(h)
        sd[p + 'attention.output.dense.weight'] = w(h, h).t().contiguous().t()  # non-contiguous
        sd[p + 'attention.output.dense.bias'] = w(h)
        sd[p + 'attention.output.LayerNorm.weight'] = 1 + w(h) * 0.1
        sd[p + 'attention.output.LayerNorm.bias'] = w(h) * 0.1
        sd[p + 'intermediate.dense.weight'] = w(inter, h)
        sd[p + 'intermediate.dense.bias'] = w(inter)
        sd[p + 'output.dense.weight'] = w(h, inter)
        sd[p + 'output.dense.bias'] = w(h)
        sd[p + 'output.LayerNorm.weight'] = 1 + w(h) * 0.1
        sd[p + 'output.LayerNorm.bias'] = w(h) * 0.1
    sd['bert.pooler.dense.weight'] = w(h, h)
    sd['bert.pooler.dense.bias'] = w(h)
    sd['classifier.weight'] = w(h, labels).t()  # a transposed view
    sd['classifier.bias'] = w(labels)
    torch.save(sd, os.path.join(folder, 'pytorch_model.bin'))
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    with open(os.path.join(folder, 'vocab.txt'), 'w') as f:
        f.write('\n'.join(vocab) + '\n')
    with open(os.path.join(folder, 'tokenizer_config.json'), 'w') as f:
        json.dump({'do_lower_case': True, 'model_max_length': positions, 'tokenizer_class': 'BertTokenizer'}, f)
        f.write('\n')
    with open(os.path.join(folder, 'expected.json'), 'w') as f:
        json.dump(expected(sd), f)
        f.write('\n')


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(0)

    def rnd(*shape, dtype=torch.float32):
        return torch.randn(*shape, generator=g).to(dtype)

    # a BERT-like state dict: OrderedDict with _metadata, Parameters and buffers
    lin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(rnd(3, 4))
        lin.bias.copy_(rnd(3))
    basic = collections.OrderedDict()
    basic['encoder.weight'] = lin.weight  # a Parameter (torch._utils._rebuild_parameter)
    basic['encoder.bias'] = lin.bias
    basic['position_ids'] = torch.arange(6, dtype=torch.int64).reshape(1, 6)
    basic['scale'] = torch.tensor(2.5, dtype=torch.float64)  # 0-d
    basic['empty'] = torch.zeros(0, 3)
    basic._metadata = collections.OrderedDict([('', {'version': 1})])
    save('zip.bin', basic)
    save('legacy.bin', basic, legacy=True)

    # dtypes
    dt = collections.OrderedDict()
    dt['half'] = rnd(2, 3, dtype=torch.float16)
    dt['bf16'] = rnd(5, dtype=torch.bfloat16)
    dt['f64'] = rnd(2, 2, dtype=torch.float64)
    dt['i64'] = torch.tensor([[-3, 2 ** 40], [7, -(2 ** 50)]], dtype=torch.int64)
    dt['i32'] = torch.tensor([1, -2, 3], dtype=torch.int32)
    dt['u8'] = torch.tensor([0, 255, 7], dtype=torch.uint8)
    dt['flag'] = torch.tensor([True, False, True])
    save('dtypes.bin', dt)
    save('dtypes-legacy.bin', dt, legacy=True)

    # views: transposed, strided, offset slices, shared storage
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 4
    views = collections.OrderedDict()
    views['base'] = base
    views['transposed'] = base.t()                  # stride (1, 6)
    views['columns'] = base[:, 1:5:2]               # stride (6, 2), offset 1
    views['row2'] = base[2]                         # offset 12
    views['expanded'] = torch.tensor([1.0, 2.0, 3.0]).reshape(3, 1).expand(3, 4)  # stride (1, 0)
    tied = rnd(3, 2)
    views['tied.a'] = tied
    views['tied.b'] = tied                          # same tensor twice
    views['half_t'] = rnd(3, 5, dtype=torch.float16).t()
    save('views.bin', views)
    save('views-legacy.bin', views, legacy=True)

    # shards (transformers' pytorch_model.bin.index.json layout)
    shard_dir = os.path.join(OUT, 'sharded')
    os.makedirs(shard_dir, exist_ok=True)
    s1 = collections.OrderedDict([('a.weight', rnd(2, 2)), ('a.bias', rnd(2))])
    s2 = collections.OrderedDict([('b.weight', rnd(3, 2).t())])
    torch.save(s1, os.path.join(shard_dir, 'pytorch_model-00001-of-00002.bin'))
    torch.save(s2, os.path.join(shard_dir, 'pytorch_model-00002-of-00002.bin'))
    index = {'metadata': {'total_size': 40},
             'weight_map': {'a.weight': 'pytorch_model-00001-of-00002.bin',
                            'a.bias': 'pytorch_model-00001-of-00002.bin',
                            'b.weight': 'pytorch_model-00002-of-00002.bin'}}
    with open(os.path.join(shard_dir, 'pytorch_model.bin.index.json'), 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')
    with open(os.path.join(shard_dir, 'config.json'), 'w') as f:
        json.dump({'model_type': 'bert'}, f)
        f.write('\n')
    exp = expected(s1)
    exp.update(expected(s2))
    with open(os.path.join(shard_dir, 'expected.json'), 'w') as f:
        json.dump(exp, f)
        f.write('\n')

    # a tiny BertForSequenceClassification folder as transformers writes it with
    # save_pretrained(safe_serialization=False): config.json, vocab.txt, pytorch_model.bin
    write_tiny_bert(os.path.join(OUT, 'tiny-bert'), rnd)

    # LayerNorm parameters under their pre-2019 names (gamma, beta), as old BERT checkpoints have them
    old = collections.OrderedDict()
    old['bert.embeddings.LayerNorm.gamma'] = rnd(4)
    old['bert.embeddings.LayerNorm.beta'] = rnd(4)
    old['bert.pooler.dense.weight'] = rnd(2, 4)
    save('layernorm-gamma-beta.bin', old)

    # malicious: a pickle whose __reduce__ calls os.system to create a file, and one calling
    # builtins.eval; both in the zip layout so they go through the same reader as real checkpoints.
    marker = '/tmp/fmn-torch-fixture-pwned'

    class System:
        def __reduce__(self):
            return (os.system, ('touch ' + marker,))

    class Eval:
        def __reduce__(self):
            return (eval, ("open('" + marker + "', 'w').close()",))

    torch.save({'x': System()}, os.path.join(OUT, 'malicious-system.bin'))
    torch.save({'x': Eval()}, os.path.join(OUT, 'malicious-eval.bin'))
    torch.save({'x': System()}, os.path.join(OUT, 'malicious-legacy.bin'), _use_new_zipfile_serialization=False)
    with open(os.path.join(OUT, 'malicious.json'), 'w') as f:
        json.dump({'marker': marker}, f)
        f.write('\n')
    # the zip layout with deflated entries (torch itself always stores): the reader refuses it
    import zipfile
    with zipfile.ZipFile(os.path.join(OUT, 'zip.bin')) as src, \
            zipfile.ZipFile(os.path.join(OUT, 'compressed.bin'), 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace('zip/', 'compressed/', 1), src.read(info.filename))
    if os.path.exists(marker):
        os.remove(marker)
    print('wrote fixtures to', os.path.normpath(OUT), 'with torch', torch.__version__, file=sys.stderr)


if __name__ == '__main__':
    main()
