"""Rekognition Custom Labels: projects, versions, tags, training jobs and serving, with AWS's rules."""
