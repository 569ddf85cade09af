"""Training: corpora → FCN tagger (softmax, CRF or Bi-MEMM objective) → ONNX export, one module per step.

config (settings, the run's plan; no torch), data (corpora → sequences →
vocabulary → id batches), network (the encoders), losses (the objectives),
predict (dev lines cut as the runtime cuts them, scored), export (ONNX, int8),
plot, metadata (what metadata.json records), loop (``train``: the run).

Only `seg train` imports this package (through segcli.train), so `import
segcli` never pulls in torch.
"""
