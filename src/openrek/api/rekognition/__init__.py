"""Rekognition on the generic JSON 1.1 layer (`openrek.api.json11`): its model and its binding."""
