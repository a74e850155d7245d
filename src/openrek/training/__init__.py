"""Training: manifests in, a trained model, evaluation and output files out.

Knows nothing of the service or the wire; the job runner hands it a `TrainingRequest`
(see `request.py`) and an object store, and gets a `TrainingOutcome` back.
"""
