"""The ``openrek`` command line: an AWS CLI v1 compatible front end for the local server.

Generated from botocore's Rekognition service model; imports stay lazy so start-up is fast.
"""
