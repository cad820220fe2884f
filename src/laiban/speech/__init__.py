"""Laiban's voice, on the preschool's own server: text to speech (`tts`, with an audio cache on disk) and
speech to text (`stt`). Nothing a child says or hears is sent anywhere else."""
